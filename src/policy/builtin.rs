//! The built-in policy documents, embedded in the binary.
