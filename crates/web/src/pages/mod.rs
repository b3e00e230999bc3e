//! Server-rendered pages: plain HTML, assets embedded in the binary (closed networks). The one script,
//! `assets/device.js`, serves hall devices and kiosks; every page works without it.

pub mod assets;
pub mod device;
pub mod evaluate;
pub mod home;
pub mod hotline;
pub mod kiosk;
pub mod public;
pub mod second;
pub mod window;
