//! The result of a run: a table for people and one JSON line for scripts.

use hdrhistogram::Histogram;
use serde_json::json;

use crate::RunArgs;

pub struct Report {
    pub workload: &'static str,
    pub label: String,
    pub connections: usize,
    pub seconds: f64,
    pub requests: u64,
    pub items: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub server_cpu: Option<f64>,
    pub driver_cpu: f64,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        args: &RunArgs,
        seconds: f64,
        requests: u64,
        items: u64,
        errors: u64,
        first_error: Option<String>,
        latency: &Histogram<u64>,
        server_cpu: Option<f64>,
        driver_cpu: f64,
    ) -> Self {
        let q = |p: f64| {
            if latency.is_empty() {
                0
            } else {
                latency.value_at_quantile(p)
            }
        };
        Report {
            workload: args.workload.name(),
            label: args.label.clone(),
            connections: args.connections,
            seconds,
            requests,
            items,
            errors,
            first_error,
            p50: q(0.50),
            p90: q(0.90),
            p99: q(0.99),
            p999: q(0.999),
            max: latency.max(),
            server_cpu,
            driver_cpu,
        }
    }

    pub fn ops_per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }

    /// Requests per second of server CPU time (user + system, all threads).
    pub fn ops_per_server_cpu_second(&self) -> Option<f64> {
        self.server_cpu
            .filter(|cpu| *cpu > 0.0)
            .map(|cpu| self.requests as f64 / cpu)
    }

    /// Prints the report; output errors (a closed pipe) are ignored.
    pub fn print(&self, json_only: bool) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if !json_only {
            let _ = writeln!(
                out,
                "{:<14} {:<16} {:>5} {:>7} {:>10} {:>11} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7} {:>12} {:>14} {:>7}",
                "workload",
                "label",
                "conns",
                "secs",
                "requests",
                "ops/s",
                "p50 µs",
                "p90 µs",
                "p99 µs",
                "p99.9 µs",
                "max µs",
                "errors",
                "server cpu %",
                "ops/server-s",
                "drv %",
            );
            let server_pct = self
                .server_cpu
                .map(|c| format!("{:.0}", 100.0 * c / self.seconds.max(1e-9)))
                .unwrap_or_else(|| "-".into());
            let per_cpu = self
                .ops_per_server_cpu_second()
                .map(|v| format!("{v:.0}"))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{:<14} {:<16} {:>5} {:>7.2} {:>10} {:>11.0} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7} {:>12} {:>14} {:>7.0}",
                self.workload,
                self.label,
                self.connections,
                self.seconds,
                self.requests,
                self.ops_per_second(),
                self.p50,
                self.p90,
                self.p99,
                self.p999,
                self.max,
                self.errors,
                server_pct,
                per_cpu,
                100.0 * self.driver_cpu / self.seconds.max(1e-9),
            );
            if let Some(e) = &self.first_error {
                let _ = writeln!(out, "FAILED: {} errors; first: {e}", self.errors);
            }
        }
        let line = json!({
            "workload": self.workload,
            "label": self.label,
            "connections": self.connections,
            "seconds": self.seconds,
            "requests": self.requests,
            "items": self.items,
            "errors": self.errors,
            "first_error": self.first_error,
            "ops_per_s": self.ops_per_second(),
            "items_per_s": self.items as f64 / self.seconds.max(1e-9),
            "p50_us": self.p50,
            "p90_us": self.p90,
            "p99_us": self.p99,
            "p999_us": self.p999,
            "max_us": self.max,
            "server_cpu_s": self.server_cpu,
            "ops_per_server_cpu_s": self.ops_per_server_cpu_second(),
            "driver_cpu_s": self.driver_cpu,
        });
        let _ = writeln!(out, "{line}");
    }
}

/// CPU time (user + system, all threads) of a process so far, from `/proc/<pid>/stat`.
/// Linux reports it in clock ticks of 1/100 s (USER_HZ is 100 on every architecture Linux
/// exposes to user space through /proc).
pub fn cpu_seconds(pid: u32) -> Result<f64, String> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    // The command name is in parentheses and may contain spaces: fields start after it.
    let after = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .ok_or_else(|| format!("unexpected format of {path}"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Field 3 (state) is fields[0]; utime is field 14, stime field 15.
    let tick = |i: usize| -> Result<f64, String> {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .map(|t| t as f64 / 100.0)
            .ok_or_else(|| format!("unexpected format of {path}"))
    };
    Ok(tick(11)? + tick(12)?)
}
