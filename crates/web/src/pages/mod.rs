//! Server-rendered pages: plain HTML, no script, assets embedded in the binary (closed networks).

pub mod assets;
pub mod evaluate;
pub mod home;
pub mod layout;
pub mod public;
pub mod second;
