//! Rebuild when a migration is added: `sqlx::migrate!` embeds the folders, but Cargo only watches sources.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
