//! JSON API handlers, one file per resource, one function per action. Handlers only translate HTTP to a
//! use case and back; rules live in `hcp-domain`, work in `hcp-app`.

pub mod appeals;
pub mod cases;
pub mod catalog;
pub mod download;
pub mod evaluations;
pub mod health;
pub mod hotline;
pub mod indicators;
pub mod inspections;
pub mod integrity;
pub mod platforms;
pub mod referrals;
pub mod results;
pub mod service_records;
pub mod sessions;
pub mod stats;
