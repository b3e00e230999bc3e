//! The `hcp` program: command line, configuration, wiring and background jobs.
#![forbid(unsafe_code)]

pub mod audit;
pub mod backup;
mod catalog;
pub mod cli;
pub mod commands;
pub mod county;
mod doctor;
mod exchange;
mod file_modes;
mod first_run;
pub mod listener;
pub mod server;

pub use server::{Application, ServeConfig};
