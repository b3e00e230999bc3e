//! The integration suite: every test starts the real server on port 0 and talks HTTP to it, once over
//! SQLite and once over PostgreSQL (when `HCP_TEST_DATABASE_URL` is set).

mod helpers;

mod audit;
mod backups;
mod bad_input;
mod browser;
mod calendar;
mod cases;
mod catalog;
mod catalog_import;
mod channels;
mod cli;
mod connections;
mod console;
mod default_evaluation;
mod durability;
mod evaluations;
mod exchange;
mod faults;
mod first_day;
mod floods;
mod history;
mod inspections;
mod instances;
mod integrity;
mod metrics;
mod openapi;
mod plan;
mod privacy;
mod records;
mod results;
mod safeguards;
mod stats;
mod upgrade;
mod upper_level;
mod webdriver;
