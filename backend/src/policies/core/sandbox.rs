//! Custom Rego rules run in separate, memory-limited processes.
//!
//! regorus' timer is checked between evaluation steps, and one step can
//! allocate hundreds of MiB (`sprintf` with a huge width, `concat` doubling
//! a string): inside the server, an uploaded module could take the process
//! down. So the server evaluates no Rego itself: each rule goes to a worker,
//! `cairn rego-worker`, this same executable started with an empty
//! environment, no inherited descriptors but two pipes (it exits when its
//! stdin closes, so it never outlives the server), and a hard heap
//! limit (`memlimit`: an allocation past it aborts the worker). A worker
//! that dies, stalls past its deadline or answers garbage is killed and
//! replaced; the rule is `error` (never a pass) with the reason.
//!
//! Protocol, one request at a time over the worker's stdin and stdout: a
//! request line `{"module", "limit_ms", "input"}` (JSON), followed, when
//! `input` is true, by the rule input as one line of JSON (a worker keeps
//! the last input, so the rules of one evaluation send it once); the answer
//! is one line, the serialised [`RuleOutcome`].
//!
//! [`install`] sets the process's sandbox once (the server does it when it
//! starts); without one (unit tests, the worker itself) Rego runs in
//! process.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::rego::{on_large_stack, RegoRule};
use super::RuleOutcome;

/// How the server runs custom rules.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// The `cairn` executable (started as `<program> rego-worker`).
    pub program: PathBuf,
    /// Heap limit of one worker, in bytes.
    pub memory_bytes: usize,
    /// Workers at most (each evaluates one rule at a time).
    pub workers: usize,
}

/// Time a worker has, beyond the rule's own limit, to read its input and
/// answer (the rule's limit is enforced inside the worker by regorus).
const GRACE: Duration = Duration::from_secs(5);

/// Largest answer read from a worker: a rule's outcome is bounded
/// (`rego::MAX_VIOLATIONS` messages of bounded length).
const MAX_ANSWER_BYTES: usize = 8 << 20;

/// Requests one worker serves before it is replaced (glibc keeps freed
/// memory; a fresh process gives it back).
const MAX_REQUESTS_PER_WORKER: u32 = 1_000;

static SANDBOX: OnceLock<Sandbox> = OnceLock::new();

/// Sets this process's sandbox; later calls change nothing.
pub fn install(options: SandboxOptions) {
    let _ = SANDBOX.set(Sandbox::new(options));
}

/// The installed sandbox, if any.
pub fn installed() -> Option<&'static Sandbox> {
    SANDBOX.get()
}

/// The rule input of one evaluation, as JSON text, with an id unique in
/// this process (so a worker that holds it is not sent it again).
pub struct InputText<'a> {
    pub id: u64,
    pub json: &'a str,
}

pub struct Sandbox {
    options: SandboxOptions,
    pool: Mutex<Pool>,
    freed: Condvar,
}

#[derive(Default)]
struct Pool {
    idle: Vec<Worker>,
    /// Workers started and not yet stopped (idle or leased).
    running: usize,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    /// The input this worker holds.
    input: Option<u64>,
    served: u32,
}

/// Why an exchange with a worker failed.
enum Failure {
    /// No answer by the deadline: the worker is killed.
    Deadline,
    /// The worker closed its pipes (it died).
    Died,
    /// The request could not be written: the worker was already gone.
    Unsent,
    /// Anything else: what went wrong.
    Other(String),
}

#[derive(Serialize, Deserialize)]
struct Request {
    module: String,
    limit_ms: u64,
    input: bool,
}

impl Sandbox {
    fn new(options: SandboxOptions) -> Self {
        Sandbox {
            options,
            pool: Mutex::new(Pool::default()),
            freed: Condvar::new(),
        }
    }

    /// Evaluates `rule` against `input` in a worker; any failure of the
    /// worker is an `error` outcome naming it.
    pub fn evaluate(&self, rule: &RegoRule, input: &InputText<'_>, limit: Duration) -> RuleOutcome {
        let mut worker = match self.lease(input.id, limit) {
            Ok(w) => w,
            Err(e) => return RuleOutcome::error(e),
        };
        let mut result = exchange(&mut worker, rule, input, limit);
        // A worker that died while idle (it never read this request) is
        // not the rule's doing: once, with a fresh one.
        if matches!(result, Err(Failure::Unsent)) {
            stop(worker);
            worker = match self.spawn() {
                Ok(w) => w,
                Err(e) => {
                    self.release(None);
                    return RuleOutcome::error(e);
                }
            };
            result = exchange(&mut worker, rule, input, limit);
        }
        match result {
            Ok(outcome) => {
                worker.served += 1;
                if worker.served < MAX_REQUESTS_PER_WORKER {
                    self.release(Some(worker));
                } else {
                    // Retired: stopped and reaped, not left a zombie.
                    stop(worker);
                    self.release(None);
                }
                outcome
            }
            Err(failure) => {
                let died = stop(worker);
                self.release(None);
                RuleOutcome::error(self.explain(failure, died, limit))
            }
        }
    }

    fn explain(&self, failure: Failure, died: Option<i32>, limit: Duration) -> String {
        let mib = self.options.memory_bytes >> 20;
        match (failure, died) {
            (Failure::Deadline, _) => format!(
                "the Rego rule exceeded its {} ms evaluation limit (its evaluation process was stopped)",
                limit.as_millis()
            ),
            (Failure::Died | Failure::Unsent, Some(libc::SIGABRT)) => format!(
                "the Rego rule exceeded the {mib} MiB memory limit of custom-rule evaluation"
            ),
            (Failure::Died | Failure::Unsent, Some(sig)) => {
                format!("the Rego rule's evaluation process stopped unexpectedly (signal {sig})")
            }
            (Failure::Died | Failure::Unsent, None) => {
                "the Rego rule's evaluation process stopped unexpectedly".into()
            }
            (Failure::Other(e), _) => format!("the Rego rule could not be evaluated: {e}"),
        }
    }

    /// An idle worker (one holding `input` first), a new one while fewer
    /// than `workers` run, or the first freed within `wait`.
    fn lease(&self, input: u64, wait: Duration) -> Result<Worker, String> {
        let until = Instant::now() + wait + GRACE;
        let mut pool = self.pool.lock().expect("not poisoned");
        loop {
            if let Some(i) = pool.idle.iter().position(|w| w.input == Some(input)) {
                return Ok(pool.idle.swap_remove(i));
            }
            if let Some(w) = pool.idle.pop() {
                return Ok(w);
            }
            if pool.running < self.options.workers {
                pool.running += 1;
                drop(pool);
                return self.spawn().inspect_err(|_| self.release(None));
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "no custom-rule evaluation process became free within {} ms",
                    (wait + GRACE).as_millis()
                ));
            }
            pool = self.freed.wait_timeout(pool, left).expect("not poisoned").0;
        }
    }

    /// Returns a worker to the pool, or (`None`) counts one stopped.
    fn release(&self, worker: Option<Worker>) {
        let mut pool = self.pool.lock().expect("not poisoned");
        match worker {
            Some(w) => pool.idle.push(w),
            None => pool.running -= 1,
        }
        drop(pool);
        self.freed.notify_one();
    }

    fn spawn(&self) -> Result<Worker, String> {
        let mut cmd = Command::new(&self.options.program);
        cmd.arg("rego-worker")
            .arg("--memory-bytes")
            .arg(self.options.memory_bytes.to_string())
            // Nothing of the server's environment (database URL, tokens).
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Rego's print() and the allocation-failure line stay out of
            // the server's log.
            .stderr(Stdio::null());
        let mut child = cmd.spawn().map_err(|e| {
            format!(
                "custom rules cannot run: the evaluation process ({}) could not be started: {e}",
                self.options.program.display()
            )
        })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("custom rules cannot run: the evaluation process has no pipes".into());
        };
        Ok(Worker {
            child,
            stdin,
            stdout,
            input: None,
            served: 0,
        })
    }
}

/// Kills and reaps a worker: the signal that ended it, if one did.
fn stop(mut worker: Worker) -> Option<i32> {
    drop(worker.stdin);
    let status = match worker.child.try_wait() {
        Ok(Some(s)) => s,
        _ => {
            let _ = worker.child.kill();
            worker.child.wait().ok()?
        }
    };
    status.signal()
}

fn exchange(
    w: &mut Worker,
    rule: &RegoRule,
    input: &InputText<'_>,
    limit: Duration,
) -> Result<RuleOutcome, Failure> {
    let send_input = w.input != Some(input.id);
    let request = Request {
        module: rule.module.clone(),
        limit_ms: limit.as_millis().min(u64::MAX as u128) as u64,
        input: send_input,
    };
    let mut head = serde_json::to_vec(&request).map_err(|e| Failure::Other(e.to_string()))?;
    head.push(b'\n');
    let written = w.stdin.write_all(&head).and_then(|()| {
        if send_input {
            w.stdin.write_all(input.json.as_bytes())?;
            w.stdin.write_all(b"\n")?;
        }
        w.stdin.flush()
    });
    if written.is_err() {
        return Err(Failure::Unsent);
    }
    // The worker now holds this input, whatever the outcome.
    w.input = Some(input.id);
    let line = read_line(&mut w.stdout, Instant::now() + limit + GRACE)?;
    serde_json::from_slice(&line)
        .map_err(|e| Failure::Other(format!("the evaluation process answered garbage: {e}")))
}

/// One line from the worker by `deadline`.
fn read_line(out: &mut ChildStdout, deadline: Instant) -> Result<Vec<u8>, Failure> {
    let mut line = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::Deadline);
        }
        let mut fd = libc::pollfd {
            fd: out.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd, owned by this frame, for the call.
        let ready = unsafe { libc::poll(&mut fd, 1, ms) };
        if ready < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Failure::Other(e.to_string()));
        }
        if ready == 0 {
            continue; // the deadline check above ends the wait
        }
        let n = match out.read(&mut chunk) {
            Ok(0) => return Err(Failure::Died),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(Failure::Died),
        };
        line.extend_from_slice(&chunk[..n]);
        if let Some(end) = line.iter().position(|&b| b == b'\n') {
            if end + 1 != line.len() {
                return Err(Failure::Other(
                    "the evaluation process answered more than was asked".into(),
                ));
            }
            line.truncate(end);
            return Ok(line);
        }
        if line.len() > MAX_ANSWER_BYTES {
            return Err(Failure::Other(format!(
                "the evaluation process answered more than {MAX_ANSWER_BYTES} bytes"
            )));
        }
    }
}

/// Compiled modules a worker keeps, by text.
const MAX_CACHED_MODULES: usize = 64;

/// `cairn rego-worker`: serves requests from stdin until it closes, with
/// the heap limited to `memory_bytes` (armed by the caller's allocator).
pub fn serve_worker() -> std::io::Result<()> {
    let mut reader = BufReader::new(std::io::stdin().lock());
    let mut out = std::io::stdout().lock();
    let mut input: Result<regorus::Value, String> = Err("no input was sent".into());
    let mut rules: HashMap<String, Result<RegoRule, String>> = HashMap::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let request: Request = serde_json::from_str(&line).map_err(std::io::Error::other)?;
        if request.input {
            line.clear();
            reader.read_line(&mut line)?;
            input = regorus::Value::from_json_str(line.trim_end()).map_err(|e| {
                format!(
                    "the Rego input could not be built: {}",
                    e.to_string().lines().next().unwrap_or_default()
                )
            });
        }
        if rules.len() >= MAX_CACHED_MODULES && !rules.contains_key(&request.module) {
            rules.clear();
        }
        let rule = rules
            .entry(request.module.clone())
            .or_insert_with(|| RegoRule::compile(&request.module));
        let limit = Duration::from_millis(request.limit_ms);
        let outcome = match (&*rule, &input) {
            (Ok(rule), Ok(input)) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                on_large_stack(|| rule.evaluate(input, limit))
            }))
            .unwrap_or_else(|_| RuleOutcome::error("the Rego rule failed unexpectedly")),
            (Err(e), _) => RuleOutcome::error(format!("the Rego module does not compile: {e}")),
            (_, Err(e)) => RuleOutcome::error(e.clone()),
        };
        serde_json::to_writer(&mut out, &outcome).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
}
