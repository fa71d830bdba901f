//! JUnit XML for CI systems: one test case per scenario.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::suite::{ScenarioRun, Status};

/// The JUnit document of one suite of cases.
fn report_of(cases: Vec<TestCase>) -> String {
    let mut report = Report::new("cspsim");
    let mut suite = TestSuite::new("scenarios");
    suite.add_test_cases(cases);
    report.add_test_suite(suite);
    report.to_string().expect("JUnit XML serializes")
}

pub fn junit_xml(runs: &[ScenarioRun]) -> String {
    let mut cases = Vec::with_capacity(runs.len());
    // Each case's classname: its stable name, unless two files of the run share it (two
    // projects' suites in one run), where the path as given tells them apart.
    let stable: Vec<Option<String>> = runs.iter().map(|run| crate::snapshot::stable_name(&run.path)).collect();
    let mut uses: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for name in stable.iter().flatten() {
        *uses.entry(name.as_str()).or_default() += 1;
    }
    for (run, stable) in runs.iter().zip(&stable) {
        let classname = stable.as_ref().filter(|name| uses[name.as_str()] == 1).cloned().unwrap_or_else(|| run.shown_path.clone());
        let kind = match run.status {
            Status::Pass => None,
            Status::Fail => Some(NonSuccessKind::Failure),
            Status::Error => Some(NonSuccessKind::Error),
        };
        let status = match kind {
            None => TestCaseStatus::success(),
            Some(kind) => {
                let mut status = TestCaseStatus::non_success(kind);
                status.set_message(run.problem_summary());
                status.set_description(run.problem_text());
                status
            }
        };
        // The file identifies the case (unique within a run), named the same however the run
        // reached it, so that CI keeps one history per scenario; the title describes it, and
        // stays when the file does not load (read from its `scenario:` line).
        let title = run.title.clone().or_else(|| crate::suite::title_line(&run.path)).unwrap_or_else(|| run.display.clone());
        let mut case = TestCase::new(title, status);
        case.set_classname(classname);
        // Warnings (a listed rule the run did not exercise) do not fail a case; CI shows them
        // as its output.
        if !run.warnings.is_empty() {
            case.set_system_out(run.warnings.iter().map(|warning| format!("warning: {warning}\n")).collect::<String>());
        }
        cases.push(case);
    }
    report_of(cases)
}

/// The JUnit file of a run that did not start (no scenario found, a tag no scenario has): one
/// errored case that says why.
pub fn run_did_not_start_xml(message: &str) -> String {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_message(message.to_string());
    let mut case = TestCase::new("the run did not start", status);
    case.set_classname("cspsim");
    report_of(vec![case])
}
