//! A small WebDriver client for the browser tests: starts Debian's `chromedriver`, opens headless Chromium
//! with a given window size, and speaks the handful of W3C WebDriver commands the tests need.
//!
//! Without `chromedriver` on the PATH the browser tests are skipped with a note, so `cargo test` passes on a
//! machine without Chromium; `.ci/run` installs it and sets `HCP_REQUIRE_BROWSER=1`, which turns the skip into
//! a failure so CI can never pass by skipping.
//!
//! Chromium runs with a host resolver that knows only 127.0.0.1, and every page is checked for requests to
//! any other origin ([`Session::assert_same_origin`]): the pages must work on a closed network.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Once;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

static SKIP_NOTICE: Once = Once::new();

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    http: reqwest::Client,
    driver: String,
    id: String,
    /// The server under test, to tell its requests from any other.
    base: String,
    _chromedriver: Child,
    /// Chromium's profile, fresh for each session: a profile left locked by an earlier Chromium (a test that
    /// panicked before quitting) makes the next one exit at start.
    _profile: tempfile::TempDir,
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Where screenshots go: kept after the run as the tests' output (`target/browser-screenshots/`).
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("..").join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Session {
    /// A browser with a `width`×`height` viewport, or `None` (with a note) when Chromium is not installed.
    pub async fn start(base: &str, width: u32, height: u32) -> Option<Session> {
        let Some(chromedriver) = find_program("chromedriver") else {
            assert!(
                std::env::var_os("HCP_REQUIRE_BROWSER").is_none(),
                "HCP_REQUIRE_BROWSER is set but chromedriver is not on the PATH"
            );
            SKIP_NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "\nNOTE: chromedriver is not installed: the browser tests were skipped \
                     (apt-get install chromium chromium-driver fonts-noto-cjk to run them; CI does).\n"
                );
            });
            return None;
        };
        let port = free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let driver = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{driver}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--no-first-run".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--lang=zh-CN".to_string(),
            // Nothing but the test server resolves: a page that reaches for a CDN fails visibly.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".to_string(),
            format!("--window-size={width},{height}"),
        ];
        let profile = tempfile::tempdir().expect("a profile directory");
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut options = json!({ "args": args, "mobileEmulation": {
            "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "touch": width < 800 }
        }});
        if let Some(chromium) = find_program("chromium") {
            options["binary"] = json!(chromium.display().to_string());
        }
        let caps = json!({"capabilities": {"alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": options }}});
        // Chromium now and then exits while starting on a busy machine; a second try starts it.
        let mut last = Value::Null;
        for _ in 0..3 {
            let res: Value =
                http.post(format!("{driver}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
            if let Some(id) = res["value"]["sessionId"].as_str() {
                let id = id.to_string();
                return Some(Session {
                    http,
                    driver,
                    id,
                    base: base.to_string(),
                    _chromedriver: child,
                    _profile: profile,
                });
            }
            last = res;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("new session: {last}");
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.driver, self.id, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(err) = v["value"]["error"].as_str() {
            panic!("webdriver {path}: {err}: {}", v["value"]["message"]);
        }
        v["value"].clone()
    }

    /// Opens a path of the server under test.
    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", self.base) };
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None).await.as_str().unwrap().to_string()
    }

    pub async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None).await.as_str().unwrap().to_string()
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        self.script("return document.body.innerText", json!([])).await.as_str().unwrap_or("").to_string()
    }

    pub async fn script(&self, js: &str, args: Value) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": js, "args": args }))).await
    }

    /// Runs axe-core (issue 17 §4) on the page: its serious and critical violations, each as
    /// "rule: help (nodes) targets". `None` when axe-core is not installed (`HCP_AXE_JS`, or `.ci/run`'s copy);
    /// where browsers are required, it must be.
    pub async fn axe(&self) -> Option<Vec<String>> {
        let path = std::env::var_os("HCP_AXE_JS").map(PathBuf::from).or_else(|| {
            let ci = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.ci/axe/node_modules/axe-core/axe.min.js");
            ci.exists().then_some(ci)
        });
        let Some(source) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
            assert!(
                std::env::var_os("HCP_REQUIRE_BROWSER").is_none(),
                "HCP_REQUIRE_BROWSER is set but axe-core is not installed (HCP_AXE_JS)"
            );
            return None;
        };
        self.script(&format!("{source}\n;return true;"), json!([])).await;
        let run = "const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
              .then(r => done(r.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ') '
                  + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
              .catch(e => done(['axe failed: ' + e]));";
        let v = self.cmd(reqwest::Method::POST, "/execute/async", Some(json!({ "script": run, "args": [] }))).await;
        Some(
            v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default(),
        )
    }

    async fn find(&self, css: &str) -> String {
        let v = self.cmd(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {v}")).to_string()
    }

    pub async fn exists(&self, css: &str) -> bool {
        let v =
            self.cmd(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": css}))).await;
        v.as_array().is_some_and(|a| !a.is_empty())
    }

    /// Clicks the first element matching `css`. A page still replacing itself after the last navigation can
    /// turn the element stale between finding and clicking; then it is found again.
    pub async fn click(&self, css: &str) {
        for _ in 0..20 {
            let el = self.find(css).await;
            let url = format!("{}/session/{}/element/{el}/click", self.driver, self.id);
            let v: Value = self.http.post(url).json(&json!({})).send().await.unwrap().json().await.unwrap();
            match v["value"]["error"].as_str() {
                None => return,
                Some("stale element reference") => tokio::time::sleep(Duration::from_millis(100)).await,
                Some(err) => panic!("click {css}: {err}: {}", v["value"]["message"]),
            }
        }
        panic!("click {css}: the element stayed stale");
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{el}/value"), Some(json!({ "text": text }))).await;
    }

    /// Focuses the element and presses Enter on it, as a keyboard user does.
    pub async fn press_enter(&self, css: &str) {
        let el = self.find(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{el}/value"), Some(json!({ "text": "\u{E007}" }))).await;
    }

    /// Waits until the page's text contains `needle` (pages that change by themselves: the hall device).
    pub async fn wait_for_text(&self, needle: &str, timeout: Duration) -> String {
        let start = std::time::Instant::now();
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            assert!(start.elapsed() < timeout, "waited {timeout:?} for {needle:?}; the page says:\n{text}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Saves a PNG of the viewport as `name.png` in [`screenshot_dir`].
    pub async fn screenshot(&self, name: &str) {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64_decode(b64.as_str().unwrap());
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// Every resource the page loaded came from the server under test.
    pub async fn assert_same_origin(&self) {
        let names = self
            .script("return performance.getEntries().map(e => e.name).filter(n => n.startsWith('http'))", json!([]))
            .await;
        for n in names.as_array().unwrap() {
            let n = n.as_str().unwrap();
            assert!(n.starts_with(&self.base), "a request left for another host: {n}");
        }
    }

    /// The page is no wider than the viewport (no sideways scrolling on a small phone).
    pub async fn assert_fits_width(&self) {
        let v = self.script("return [document.documentElement.scrollWidth, window.innerWidth]", json!([])).await;
        let (scroll, inner) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
        assert!(scroll <= inner, "the page is {scroll}px wide in a {inner}px viewport");
    }

    pub async fn quit(mut self) {
        let _ = self.http.delete(format!("{}/session/{}", self.driver, self.id)).send().await;
        self.id.clear();
    }
}

impl Drop for Session {
    /// A test that failed never reached [`Session::quit`]: end the session here (plain blocking HTTP, as
    /// drop cannot wait for async work), or Chromium outlives the test and its chromedriver.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        if self.id.is_empty() {
            return;
        }
        let Some(addr) = self.driver.strip_prefix("http://") else { return };
        if let Ok(mut conn) = std::net::TcpStream::connect(addr) {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!("DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n", self.id);
            if conn.write_all(request.as_bytes()).is_ok() {
                let _ = conn.read_to_end(&mut Vec::new());
            }
        }
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else { continue };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}
