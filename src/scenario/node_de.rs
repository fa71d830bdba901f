//! Typed decoding of a [`Node`] tree with serde, keeping locations and going on after errors.
//!
//! The file model (`scenario::model`) is plain `#[derive(Deserialize, JsonSchema)]` types: the
//! same types give the loader its structure and `cspsim schema` its JSON Schema. This module
//! is the serde `Deserializer` that reads them from the located tree:
//!
//! - every error is stamped with the position of the innermost node it concerns;
//! - serde's errors are kept as data ([`DecodeErrorKind`]) and phrased for a person, with
//!   the nearest valid name for an unknown key or variant;
//! - unknown keys of a struct are recorded and skipped rather than aborting, so one pass
//!   reports all of them;
//! - numbers are handed to `str` targets by their spelling (money is read as written).

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess, Visitor};

use crate::scenario::diagnostic::Position;
use crate::scenario::yaml::{Node, NodeValue};
use crate::suggest::{nearest, nearest_or_completion};

/// The newtype name through which [`Located`] asks this deserializer for a node's position.
const LOCATED_MARKER: &str = "__cspsim_located";
/// The name `OneOrMany` asks for: one value is decoded as a list of one, through this
/// deserializer, so that its errors are located and recovered from like a list's.
pub const ONE_OR_MANY_MARKER: &str = "__cspsim_one_or_many";

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Located<T> {
    pub value: T,
    pub position: Position,
    pub width: u32,
}

impl<T> Located<T> {
    pub fn new(value: T, position: Position) -> Self {
        Located { value, position, width: 1 }
    }
}

impl<T> std::ops::Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LocatedVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for LocatedVisitor<T> {
            type Value = Located<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a located value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Located<T>, A::Error> {
                let missing = || de::Error::custom("a located value needs a line, a column and a value");
                let line: u32 = access.next_element()?.ok_or_else(missing)?;
                let column: u32 = access.next_element()?.ok_or_else(missing)?;
                let width: u32 = access.next_element()?.ok_or_else(missing)?;
                let value: T = access.next_element()?.ok_or_else(missing)?;
                Ok(Located { value, position: Position::new(line, column), width })
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Located<T>, D::Error> {
                // Any other deserializer: the value without a position.
                T::deserialize(deserializer).map(|value| Located::new(value, Position::NONE))
            }
        }
        deserializer.deserialize_newtype_struct(LOCATED_MARKER, LocatedVisitor(std::marker::PhantomData))
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Located<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// What went wrong, as data, so that messages can be phrased (and suggestions made) here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    UnknownKey {
        key: String,
        expected: Vec<&'static str>,
        context: String,
    },
    UnknownVariant {
        variant: String,
        expected: Vec<&'static str>,
    },
    InvalidType {
        found: String,
        expected: String,
    },
    InvalidValue {
        found: String,
        expected: String,
    },
    MissingKey {
        key: String,
        context: String,
    },
    Message(String),
    /// A consequence of an error already reported (a required key that was misspelt).
    AlreadyReported,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    pub position: Position,
    pub width: u32,
}

impl DecodeError {
    fn new(kind: DecodeErrorKind) -> Self {
        DecodeError { kind, position: Position::NONE, width: 1 }
    }

    /// Stamps the error with `node`'s position unless an inner node already did.
    fn at(mut self, node: &Node) -> Self {
        if !self.position.is_known() {
            self.position = node.position;
            self.width = node.width() as u32;
        }
        self
    }

    pub fn message(&self) -> String {
        match &self.kind {
            // A key that is a list or a mapping (`? [a, b]`) has no text to show.
            DecodeErrorKind::UnknownKey { key, context, .. } if key.is_empty() => format!("a key that is not a plain name{context}"),
            DecodeErrorKind::UnknownKey { key, context, .. } => format!("unknown key `{key}`{context}"),
            DecodeErrorKind::UnknownVariant { variant, .. } => format!("`{variant}` is not a valid value here"),
            DecodeErrorKind::InvalidType { found, .. } => format!("found {found}"),
            // A number can be out of range; a word is just not one of the values meant.
            DecodeErrorKind::InvalidValue { found, .. } if found.starts_with("the text") => format!("{found} is not a valid value here"),
            DecodeErrorKind::InvalidValue { found, .. } => format!("{found} is out of range"),
            DecodeErrorKind::MissingKey { key, context } => format!("missing required key `{key}`{context}"),
            DecodeErrorKind::Message(message) => message.clone(),
            DecodeErrorKind::AlreadyReported => String::new(),
        }
    }

    pub fn expected(&self) -> Option<String> {
        match &self.kind {
            DecodeErrorKind::UnknownKey { expected, .. } if expected.is_empty() => Some("no keys: an empty mapping, `{}`".to_string()),
            DecodeErrorKind::UnknownKey { expected, .. } | DecodeErrorKind::UnknownVariant { expected, .. } => Some(format!("one of: {}", expected.join(", "))),
            DecodeErrorKind::InvalidType { expected, .. } | DecodeErrorKind::InvalidValue { expected, .. } => Some(expected.clone()),
            DecodeErrorKind::MissingKey { key, .. } => Some(format!("the key `{key}:` in this mapping")),
            DecodeErrorKind::Message(_) | DecodeErrorKind::AlreadyReported => None,
        }
    }

    pub fn suggestion(&self) -> Option<String> {
        match &self.kind {
            DecodeErrorKind::UnknownKey { key, expected, .. } => nearest(key, expected.iter().copied()).map(str::to_string),
            DecodeErrorKind::UnknownVariant { variant, expected } => nearest_or_completion(variant, expected.iter().copied()).map(str::to_string),
            DecodeErrorKind::InvalidType { found, expected } | DecodeErrorKind::InvalidValue { found, expected } => {
                let written = found.strip_prefix("the text `")?.strip_suffix('`')?;
                if expected == "true or false" {
                    return boolean_meant(written).map(str::to_string);
                }
                // The names an "expected" phrase quotes (`ok`) are the valid spellings.
                let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
                nearest_or_completion(written, names.iter().copied()).map(str::to_string)
            }
            _ => None,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DecodeError::new(DecodeErrorKind::Message(message.to_string()))
    }
    fn invalid_type(unexpected: de::Unexpected, expected: &dyn de::Expected) -> Self {
        DecodeError::new(DecodeErrorKind::InvalidType { found: describe_unexpected(&unexpected), expected: plain_expected(&expected.to_string()) })
    }
    fn invalid_value(unexpected: de::Unexpected, expected: &dyn de::Expected) -> Self {
        DecodeError::new(DecodeErrorKind::InvalidValue { found: describe_unexpected(&unexpected), expected: plain_expected(&expected.to_string()) })
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DecodeError::new(DecodeErrorKind::UnknownVariant { variant: variant.to_string(), expected: expected.to_vec() })
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DecodeError::new(DecodeErrorKind::UnknownKey { key: field.to_string(), expected: expected.to_vec(), context: String::new() })
    }
    fn missing_field(field: &'static str) -> Self {
        DecodeError::new(DecodeErrorKind::MissingKey { key: field.to_string(), context: String::new() })
    }
    fn duplicate_field(field: &'static str) -> Self {
        DecodeError::new(DecodeErrorKind::Message(format!("duplicate key `{field}`")))
    }
}

fn describe_unexpected(unexpected: &de::Unexpected) -> String {
    match unexpected {
        de::Unexpected::Bool(value) => format!("the boolean {value}"),
        de::Unexpected::Unsigned(value) => format!("the number {value}"),
        de::Unexpected::Signed(value) => format!("the number {value}"),
        de::Unexpected::Float(value) => format!("the number {value}"),
        de::Unexpected::Str(text) => format!("the text `{text}`"),
        de::Unexpected::Unit | de::Unexpected::Option => "nothing (an empty value)".to_string(),
        de::Unexpected::Seq => "a list".to_string(),
        de::Unexpected::Map => "a mapping".to_string(),
        other => other.to_string(),
    }
}

/// serde's "expected" phrases name Rust types; say what the file should hold instead.
fn plain_expected(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, zero or more".to_string(),
        "i8" | "i16" | "i32" | "i64" | "isize" | "i128" => "a whole number".to_string(),
        "a boolean" => "true or false".to_string(),
        "a string" => "text".to_string(),
        "a sequence" => "a list".to_string(),
        other if other.starts_with("struct ") => "a mapping".to_string(),
        other if other.starts_with("a map") => "a mapping".to_string(),
        other => other.to_string(),
    }
}

/// Unknown keys found while decoding, recorded instead of stopping (see module docs).
#[derive(Default)]
pub struct DecodeContext {
    skipped: RefCell<Vec<DecodeError>>,
}

impl DecodeContext {
    pub fn take(&self) -> Vec<DecodeError> {
        std::mem::take(&mut self.skipped.borrow_mut())
    }
}

/// Decodes `node` as a `T`; `Err` holds every error found (at least one).
pub fn decode<'a, T: de::Deserialize<'a>>(node: &'a Node) -> Result<T, Vec<DecodeError>> {
    match decode_recovering(node) {
        (Some(value), errors) if errors.is_empty() => Ok(value),
        (_, errors) => Err(errors),
    }
}

/// Decodes `node` as a `T`, going on past the errors it can step over (unknown keys, a name
/// that is not one of an enumeration's): the value, when one could be made, and every error.
/// A value that comes with errors has placeholders in their places; it serves to check the
/// rest of the file, never to run it.
pub fn decode_recovering<'a, T: de::Deserialize<'a>>(node: &'a Node) -> (Option<T>, Vec<DecodeError>) {
    let context = DecodeContext::default();
    let result = T::deserialize(NodeDeserializer { node, context: &context });
    let mut errors = context.take();
    match result {
        Ok(value) => (Some(value), errors),
        Err(error) => {
            errors.push(error);
            (None, errors)
        }
    }
}

pub struct NodeDeserializer<'a, 'c> {
    node: &'a Node,
    context: &'c DecodeContext,
}

impl<'a, 'c> NodeDeserializer<'a, 'c> {
    fn invalid_type(&self, expected: &str) -> DecodeError {
        DecodeError::new(DecodeErrorKind::InvalidType { found: self.node.describe(), expected: expected.to_string() }).at(self.node)
    }

    fn integer(&self) -> Result<i128, DecodeError> {
        match &self.node.value {
            NodeValue::Integer(value) => Ok(*value),
            // A quoted number is accepted: "10" and 10 mean the same quantity.
            NodeValue::Text(text) => text.trim().parse::<i128>().map_err(|_| self.invalid_type("a whole number")),
            // Integers beyond 64 bits arrive as floats; their spelling says what they are.
            NodeValue::Float => self.node.spelling.trim().parse::<i128>().map_err(|_| self.invalid_type("a whole number (no decimals)")),
            _ => Err(self.invalid_type("a whole number")),
        }
    }
}

macro_rules! deserialize_integer {
    ($($method:ident => $visit:ident $target:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            let value = self.integer()?;
            match <$target>::try_from(value) {
                Ok(value) => visitor.$visit::<DecodeError>(value).map_err(|e| e.at(self.node)),
                // The type's own bounds are not the value's range (trial days are 1 to 3650,
                // read as a u32): say only which way the number is wrong, and let the
                // loader's check of the real range speak once the number fits.
                Err(_) => Err(DecodeError::new(DecodeErrorKind::InvalidValue {
                    found: format!("the number {value}"),
                    expected: if value < 0 { "a whole number, zero or more".to_string() } else { "a smaller whole number".to_string() },
                }).at(self.node)),
            }
        }
    )*};
}

impl<'de, 'c> Deserializer<'de> for NodeDeserializer<'de, 'c> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let node = self.node;
        let result = match &node.value {
            NodeValue::Null => visitor.visit_unit(),
            NodeValue::Bool(value) => visitor.visit_bool(*value),
            NodeValue::Integer(value) => match i64::try_from(*value) {
                Ok(small) => visitor.visit_i64(small),
                Err(_) => visitor.visit_i128(*value),
            },
            NodeValue::Float | NodeValue::Text(_) => visitor.visit_str(node.scalar_text().unwrap_or_default()),
            NodeValue::Sequence(items) => visitor.visit_seq(NodeSeqAccess { items: items.iter(), context: self.context }),
            NodeValue::Mapping(entries) => {
                visitor.visit_map(NodeMapAccess { entries: entries.iter().collect::<Vec<_>>().into_iter(), pending: None, context: self.context })
            }
        };
        result.map_err(|e| e.at(node))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            NodeValue::Bool(value) => visitor.visit_bool::<DecodeError>(*value).map_err(|e| e.at(self.node)),
            _ => Err(self.invalid_type("true or false")),
        }
    }

    deserialize_integer! {
        deserialize_i8 => visit_i8 i8, deserialize_i16 => visit_i16 i16, deserialize_i32 => visit_i32 i32,
        deserialize_i64 => visit_i64 i64, deserialize_u8 => visit_u8 u8, deserialize_u16 => visit_u16 u16,
        deserialize_u32 => visit_u32 u32, deserialize_u64 => visit_u64 u64
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_any(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_any(visitor)
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.node.scalar_text() {
            Some(text) => visitor.visit_str::<DecodeError>(text).map_err(|e| e.at(self.node)),
            None => Err(self.invalid_type("text")),
        }
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            NodeValue::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            NodeValue::Null => visitor.visit_unit(),
            _ => Err(self.invalid_type("nothing (an empty value)")),
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DecodeError> {
        if name == LOCATED_MARKER {
            let position = self.node.position;
            let width = self.node.width() as u32;
            return visitor.visit_seq(LocatedAccess { position, width, step: 0, node: self.node, context: self.context });
        }
        if name == ONE_OR_MANY_MARKER {
            let items = match &self.node.value {
                NodeValue::Sequence(items) => items.iter(),
                NodeValue::Mapping(_) => return self.deserialize_any(visitor),
                _ => std::slice::from_ref(self.node).iter(),
            };
            return visitor.visit_seq(NodeSeqAccess { items, context: self.context }).map_err(|e| e.at(self.node));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            NodeValue::Sequence(items) => visitor.visit_seq(NodeSeqAccess { items: items.iter(), context: self.context }).map_err(|e| e.at(self.node)),
            _ => Err(self.invalid_type("a list")),
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _name: &'static str, _len: usize, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            NodeValue::Mapping(entries) => visitor
                .visit_map(NodeMapAccess { entries: entries.iter().collect::<Vec<_>>().into_iter(), pending: None, context: self.context })
                .map_err(|e| e.at(self.node)),
            _ => Err(self.invalid_type("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(self, name: &'static str, fields: &'static [&'static str], visitor: V) -> Result<V::Value, DecodeError> {
        let NodeValue::Mapping(entries) = &self.node.value else {
            let expected = if fields.is_empty() { "an empty mapping, `{}`".to_string() } else { format!("a mapping with keys {}", fields.join(", ")) };
            return Err(self.invalid_type(&expected));
        };
        let context_phrase = struct_context(name);
        // Unknown keys are recorded and left out, so decoding goes on and finds the rest.
        let mut known = Vec::with_capacity(entries.len());
        let mut meant = Vec::new();
        for entry in entries {
            let key = entry.0.scalar_text().unwrap_or_default();
            if fields.contains(&key) {
                known.push(entry);
            } else {
                meant.extend(nearest(key, fields.iter().copied()));
                let error = DecodeError::new(DecodeErrorKind::UnknownKey { key: key.to_string(), expected: fields.to_vec(), context: context_phrase.clone() })
                    .at(&entry.0);
                self.context.skipped.borrow_mut().push(error);
            }
        }
        visitor.visit_map(NodeMapAccess { entries: known.into_iter(), pending: None, context: self.context }).map_err(|error| {
            let error = match error.kind {
                // The misspelling was reported with this key as its suggestion.
                DecodeErrorKind::MissingKey { key, .. } if meant.contains(&key.as_str()) => DecodeError { kind: DecodeErrorKind::AlreadyReported, ..error },
                DecodeErrorKind::MissingKey { key, context } if context.is_empty() => {
                    DecodeError { kind: DecodeErrorKind::MissingKey { key, context: context_phrase }, ..error }
                }
                _ => error,
            };
            error.at(self.node)
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _name: &'static str, variants: &'static [&'static str], visitor: V) -> Result<V::Value, DecodeError> {
        // A scalar that is none of the names (a word, or a number or boolean where a name was
        // meant).
        let stray = match &self.node.value {
            NodeValue::Text(text) => Some(text.as_str()),
            NodeValue::Integer(_) | NodeValue::Bool(_) | NodeValue::Float => Some(self.node.spelling.as_str()),
            _ => None,
        }
        .filter(|name| !variants.contains(name));
        match &self.node.value {
            _ if stray.is_some() => {
                // Recorded, and decoding goes on with the first name in its place (when that
                // name needs nothing after it), so that the rest of the file is still checked.
                let unknown = <DecodeError as de::Error>::unknown_variant(stray.unwrap_or_default(), variants).at(self.node);
                let Some(first) = variants.first() else { return Err(unknown) };
                let placeholder: de::value::StrDeserializer<DecodeError> = first.into_deserializer();
                match visitor.visit_enum(placeholder) {
                    Ok(value) => {
                        self.context.skipped.borrow_mut().push(unknown);
                        Ok(value)
                    }
                    Err(_) => Err(unknown),
                }
            }
            NodeValue::Text(_) | NodeValue::Bool(_) | NodeValue::Integer(_) | NodeValue::Float => {
                visitor.visit_enum(NodeEnumAccess { variant: self.node, value: None, context: self.context }).map_err(|e| e.at(self.node))
            }
            NodeValue::Mapping(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor.visit_enum(NodeEnumAccess { variant: key, value: Some(value), context: self.context }).map_err(|e| e.at(self.node))
            }
            _ => Err(self.invalid_type(&format!("one of: {}", variants.join(", ")))),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }
}

/// Every required key missing anywhere in `node`, by the JSON Schema of the type it is
/// decoded as. serde stops a mapping at its first missing key; a person wants to hear of all
/// of them at once. Where the schema leaves the shape open (a value that may be one of
/// several mappings), nothing is said: decoding reports what it finds there.
pub fn missing_keys<T: schemars::JsonSchema>(node: &Node) -> Vec<DecodeError> {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>().to_value();
    let mut missing = Vec::new();
    // Named as serde names the type, so that serde's own report of the first is the same.
    missing_keys_in(&schema, &schema, Some(&T::schema_name()), node, &mut missing, 0);
    missing
}

fn missing_keys_in(root: &serde_json::Value, schema: &serde_json::Value, name: Option<&str>, node: &Node, missing: &mut Vec<DecodeError>, hops: u32) {
    // References and alternatives lead to other schemas for the same node; a schema that
    // referred to itself would lead there forever.
    if hops > MAX_SCHEMA_HOPS {
        return;
    }
    if let Some((name, definition)) = definition(root, schema) {
        return missing_keys_in(root, definition, Some(name), node, missing, hops + 1);
    }
    for alternatives in ["anyOf", "oneOf"] {
        if let Some(alternatives) = schema.get(alternatives).and_then(|a| a.as_array()) {
            let fitting: Vec<&serde_json::Value> = alternatives.iter().filter(|alternative| shape_fits(root, alternative, node, 0)).collect();
            if let [only] = fitting.as_slice() {
                missing_keys_in(root, only, name, node, missing, hops + 1);
            }
            return;
        }
    }
    match &node.value {
        NodeValue::Mapping(entries) => {
            let keys: Vec<&str> = entries.iter().filter_map(|(key, _)| key.scalar_text()).collect();
            if let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) {
                // A required key that an unknown key misspells was reported with it.
                let meant: Vec<&str> =
                    keys.iter().filter(|key| !properties.contains_key(**key)).filter_map(|key| nearest(key, properties.keys().map(String::as_str))).collect();
                let required = schema.get("required").and_then(|r| r.as_array()).into_iter().flatten().filter_map(|key| key.as_str());
                let context = name.map(struct_context).unwrap_or_default();
                for key in required.filter(|key| !keys.contains(key) && !meant.contains(key)) {
                    let context = context.clone();
                    missing.push(DecodeError::new(DecodeErrorKind::MissingKey { key: key.to_string(), context }).at(node));
                }
                for (key, value) in entries {
                    if let Some(property) = key.scalar_text().and_then(|key| properties.get(key)) {
                        missing_keys_in(root, property, None, value, missing, 0);
                    }
                }
            } else if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
                entries.iter().for_each(|(_, value)| missing_keys_in(root, values, None, value, missing, 0));
            }
        }
        NodeValue::Sequence(items) => {
            if let Some(item_schema) = schema.get("items") {
                items.iter().for_each(|item| missing_keys_in(root, item_schema, None, item, missing, 0));
            }
        }
        _ => {}
    }
}

/// How many references and alternatives are followed for one node.
const MAX_SCHEMA_HOPS: u32 = 32;

/// The definition a `$ref` points to, with its name.
fn definition<'s>(root: &'s serde_json::Value, schema: &'s serde_json::Value) -> Option<(&'s str, &'s serde_json::Value)> {
    let name = schema.get("$ref")?.as_str()?.strip_prefix("#/$defs/")?;
    Some((name, root.get("$defs")?.get(name)?))
}

/// Whether `node` could be a value of `schema`, judged by its shape alone.
fn shape_fits(root: &serde_json::Value, schema: &serde_json::Value, node: &Node, hops: u32) -> bool {
    if hops > MAX_SCHEMA_HOPS {
        return true;
    }
    if let Some((_, definition)) = definition(root, schema) {
        return shape_fits(root, definition, node, hops + 1);
    }
    if let Some(alternatives) = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(|a| a.as_array()) {
        return alternatives.iter().any(|alternative| shape_fits(root, alternative, node, hops + 1));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(serde_json::Value::String(one)) => vec![one.as_str()],
        Some(serde_json::Value::Array(several)) => several.iter().filter_map(|t| t.as_str()).collect(),
        _ if schema.get("const").is_some() || schema.get("enum").is_some() => vec!["string"],
        _ => return true,
    };
    types.iter().any(|kind| {
        matches!(
            (*kind, &node.value),
            ("object", NodeValue::Mapping(_))
                | ("array", NodeValue::Sequence(_))
                | ("null", NodeValue::Null)
                | ("string" | "integer" | "number" | "boolean", NodeValue::Text(_) | NodeValue::Integer(_) | NodeValue::Float | NodeValue::Bool(_))
        )
    })
}

/// YAML 1.1's other spellings of a boolean, which YAML 1.2 (and cspsim) read as text.
fn boolean_meant(written: &str) -> Option<&'static str> {
    match written.to_ascii_lowercase().as_str() {
        "yes" | "y" | "on" | "true" => Some("true"),
        "no" | "n" | "off" | "false" => Some("false"),
        _ => None,
    }
}

/// " in a buy step" etc.: where an unknown or missing key was, from the struct's name.
fn struct_context(name: &str) -> String {
    let mut words = String::new();
    for (index, character) in name.chars().enumerate() {
        if character.is_uppercase() && index > 0 {
            words.push(' ');
        }
        words.push(character.to_ascii_lowercase());
    }
    if words.is_empty() { String::new() } else { format!(" in {} {words}", if words.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }) }
}

struct NodeSeqAccess<'a, 'c> {
    items: std::slice::Iter<'a, Node>,
    context: &'c DecodeContext,
}

impl<'de, 'c> SeqAccess<'de> for NodeSeqAccess<'de, 'c> {
    type Error = DecodeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DecodeError> {
        match self.items.next() {
            Some(node) => seed.deserialize(NodeDeserializer { node, context: self.context }).map(Some).map_err(|e| e.at(node)),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct NodeMapAccess<'a, 'c> {
    entries: std::vec::IntoIter<&'a (Node, Node)>,
    pending: Option<&'a Node>,
    context: &'c DecodeContext,
}

impl<'de, 'c> MapAccess<'de> for NodeMapAccess<'de, 'c> {
    type Error = DecodeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DecodeError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.pending = Some(value);
                seed.deserialize(NodeDeserializer { node: key, context: self.context }).map(Some).map_err(|e| e.at(key))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DecodeError> {
        let node = self.pending.take().expect("serde asks for a value only after its key");
        seed.deserialize(NodeDeserializer { node, context: self.context }).map_err(|e| e.at(node))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// Hands [`Located`] its line, column, width and then the value.
struct LocatedAccess<'a, 'c> {
    position: Position,
    width: u32,
    step: u8,
    node: &'a Node,
    context: &'c DecodeContext,
}

impl<'de, 'c> SeqAccess<'de> for LocatedAccess<'de, 'c> {
    type Error = DecodeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DecodeError> {
        self.step += 1;
        match self.step {
            1 => seed.deserialize(self.position.line.into_deserializer()).map(Some),
            2 => seed.deserialize(self.position.column.into_deserializer()).map(Some),
            3 => seed.deserialize(self.width.into_deserializer()).map(Some),
            4 => seed.deserialize(NodeDeserializer { node: self.node, context: self.context }).map(Some),
            _ => Ok(None),
        }
    }
}

struct NodeEnumAccess<'a, 'c> {
    variant: &'a Node,
    value: Option<&'a Node>,
    context: &'c DecodeContext,
}

impl<'de, 'c> EnumAccess<'de> for NodeEnumAccess<'de, 'c> {
    type Error = DecodeError;
    type Variant = NodeVariantAccess<'de, 'c>;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, NodeVariantAccess<'de, 'c>), DecodeError> {
        let variant = seed.deserialize(NodeDeserializer { node: self.variant, context: self.context }).map_err(|e| e.at(self.variant))?;
        Ok((variant, NodeVariantAccess { value: self.value, context: self.context, at: self.variant }))
    }
}

struct NodeVariantAccess<'a, 'c> {
    value: Option<&'a Node>,
    context: &'c DecodeContext,
    at: &'a Node,
}

impl<'de, 'c> VariantAccess<'de> for NodeVariantAccess<'de, 'c> {
    type Error = DecodeError;
    fn unit_variant(self) -> Result<(), DecodeError> {
        match self.value {
            None => Ok(()),
            Some(node) if node.value == NodeValue::Null => Ok(()),
            Some(node) => Err(DecodeError::new(DecodeErrorKind::InvalidType { found: node.describe(), expected: "nothing after this name".into() }).at(node)),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DecodeError> {
        match self.value {
            Some(node) => seed.deserialize(NodeDeserializer { node, context: self.context }),
            None => Err(DecodeError::new(DecodeErrorKind::Message("this value needs settings after it".into())).at(self.at)),
        }
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Some(node) => NodeDeserializer { node, context: self.context }.deserialize_seq(visitor),
            None => Err(DecodeError::new(DecodeErrorKind::Message("this value needs a list after it".into())).at(self.at)),
        }
    }
    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Some(node) => NodeDeserializer { node, context: self.context }.deserialize_struct("", fields, visitor),
            None => Err(DecodeError::new(DecodeErrorKind::Message("this value needs a mapping after it".into())).at(self.at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::yaml::parse;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct BuyItem {
        offer: Located<String>,
        quantity: Option<u32>,
        price: Option<String>,
    }

    #[test]
    fn unknown_keys_are_all_reported_with_suggestions() {
        let node = parse("ofer: x\nquantty: 3\nprice: 1\n").unwrap();
        let errors = decode::<BuyItem>(&node).unwrap_err();
        let messages: Vec<String> =
            errors.iter().map(|e| format!("{}:{} {} ({:?})", e.position.line, e.position.column, e.message(), e.suggestion())).collect();
        // The missing `offer` is the misspelt `ofer`: reported once, as the misspelling.
        assert_eq!(
            messages,
            ["1:1 unknown key `ofer` in a buy item (Some(\"offer\"))", "2:1 unknown key `quantty` in a buy item (Some(\"quantity\"))", "1:1  (None)",]
        );
        assert_eq!(errors[2].kind, DecodeErrorKind::AlreadyReported);
        let node = parse("quantity: 3\n").unwrap();
        let errors = decode::<BuyItem>(&node).unwrap_err();
        assert_eq!(errors[0].message(), "missing required key `offer` in a buy item");
    }

    #[test]
    fn type_errors_point_at_the_value() {
        let node = parse("offer: x\nquantity: 2.5\n").unwrap();
        let errors = decode::<BuyItem>(&node).unwrap_err();
        assert_eq!(errors[0].position, Position::new(2, 11));
        assert_eq!(errors[0].message(), "found the number 2.5");
        assert_eq!(errors[0].expected().unwrap(), "a whole number (no decimals)");
    }

    #[test]
    fn located_values_know_where_they_were() {
        let node = parse("offer: m365\nprice: 32.00\n").unwrap();
        let item = decode::<BuyItem>(&node).unwrap();
        assert_eq!(item.offer.position, Position::new(1, 8));
        assert_eq!(item.price.as_deref(), Some("32.00"));
    }
}
