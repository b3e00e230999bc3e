//! Pure rules of the 好差评 evaluation system. No IO, no async: everything here is a function of its inputs,
//! so it is tested fast and exhaustively, and every other layer takes its rules from here exactly once.
#![forbid(unsafe_code)]

pub mod appeal;
pub mod assessment;
pub mod calendar;
pub mod case;
pub mod catalog;
pub mod evaluation;
pub mod identity;
pub mod indicators;
pub mod inspection;
pub mod integrity;
pub mod level;
pub mod metrics;
pub mod period;
pub mod ranking;
pub mod themes;
pub mod upstream;
pub mod violation;

pub use catalog::{ApplicantKind, Category, Channel, HallKind, OrgKind, WindowKind};
pub use level::Level;
pub use violation::{Violation, Violations};
