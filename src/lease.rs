//! Who holds a player's lease, and whether that process is gone.
//!
//! An owner is `host:pid:start:tag`: the host's name, the process id, the process's start time
//! (clock ticks since boot, field 22 of `/proc/PID/stat`) and a random tag. A lease whose owner
//! ran on this host and no longer runs (no such pid, or a pid now used by a process that started
//! at another time) is taken over at once instead of after it expires, so that the run after a
//! `kill -9` or a crash imports the player. Owners without a start time (other systems, or
//! written by an earlier version as `host:pid:tag`) are never judged dead: their leases expire.
//! The stores only ask [`is_dead`]; they never read `/proc` themselves.

/// Who this process is in the lease table.
pub fn process_owner() -> String {
    let host = host_name();
    let pid = std::process::id();
    let tag = fastrand::u16(..);
    match start_time(pid) {
        Process::Running(start) => format!("{host}:{pid}:{start}:{tag:04x}"),
        Process::Gone | Process::Unknown => format!("{host}:{pid}:{tag:04x}"),
    }
}

/// Whether `owner` is a process of this host that is no longer running.
pub fn is_dead(owner: &str) -> bool {
    let Some(owner) = Owner::parse(owner) else {
        return false;
    };
    let Some(start) = owner.start else {
        return false;
    };
    if owner.host != host_name() {
        return false;
    }
    match start_time(owner.pid) {
        Process::Gone => true,
        Process::Running(now) => now != start,
        Process::Unknown => false,
    }
}

/// `owner` for people: `pid 42 on host-a`, or the string itself when it is not one of ours.
pub fn describe(owner: &str) -> String {
    match Owner::parse(owner) {
        Some(parsed) => format!("pid {} on {}", parsed.pid, parsed.host),
        None => owner.to_string(),
    }
}

/// The host and the process id `owner` names, when it is one of ours.
pub fn host_and_pid(owner: &str) -> Option<(&str, u32)> {
    Owner::parse(owner).map(|owner| (owner.host, owner.pid))
}

/// An owner string, read.
#[derive(Debug, PartialEq, Eq)]
struct Owner<'a> {
    host: &'a str,
    pid: u32,
    start: Option<u64>,
}

impl<'a> Owner<'a> {
    fn parse(owner: &'a str) -> Option<Self> {
        let parts: Vec<&str> = owner.split(':').collect();
        let (host, pid, start) = match parts.as_slice() {
            [host, pid, start, _tag] => (*host, pid, Some(start.parse().ok()?)),
            [host, pid, _tag] => (*host, pid, None),
            _ => return None,
        };
        Some(Owner {
            host,
            pid: pid.parse().ok()?,
            start,
        })
    }
}

/// The host's name, as both [`process_owner`] and [`is_dead`] read it.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// What the system says of a process id.
#[derive(Debug, PartialEq, Eq)]
enum Process {
    /// A process with this id runs, started at this time.
    Running(u64),
    /// No process has this id (or only a zombie, which will never renew a lease).
    Gone,
    /// The system cannot tell: no `/proc`, or it cannot be read.
    Unknown,
}

#[cfg(target_os = "linux")]
fn start_time(pid: u32) -> Process {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => parse_stat(&stat),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Process::Gone,
        Err(_) => Process::Unknown,
    }
}

#[cfg(not(target_os = "linux"))]
fn start_time(_pid: u32) -> Process {
    Process::Unknown
}

/// The state and start time in a `/proc/PID/stat` line. The command name (field 2) is in
/// parentheses and may itself hold spaces and parentheses, so fields are counted after the last
/// `)`: the state is field 3, the start time field 22.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_stat(stat: &str) -> Process {
    let Some((_, fields)) = stat.rsplit_once(')') else {
        return Process::Unknown;
    };
    let mut fields = fields.split_whitespace();
    let state = fields.next();
    if matches!(state, Some("Z" | "X")) {
        return Process::Gone;
    }
    match fields.nth(22 - 4).map(str::parse) {
        Some(Ok(start)) => Process::Running(start),
        _ => Process::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_owner_formats() {
        assert_eq!(
            Owner::parse("host-a:42:123456:beef"),
            Some(Owner {
                host: "host-a",
                pid: 42,
                start: Some(123_456),
            })
        );
        assert_eq!(
            Owner::parse("host-a:42:beef"),
            Some(Owner {
                host: "host-a",
                pid: 42,
                start: None,
            })
        );
        assert_eq!(Owner::parse("one"), None);
        assert_eq!(Owner::parse("host:x:1:beef"), None);
        assert_eq!(describe("host-a:42:123456:beef"), "pid 42 on host-a");
        assert_eq!(describe("worker one"), "worker one");
    }

    #[test]
    fn reads_the_start_time_past_an_odd_command_name() {
        let stat = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 \
                    1000 100 18446744073709551615";
        assert_eq!(parse_stat(stat), Process::Running(987_654));
        let zombie = "42 (gone) Z 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654";
        assert_eq!(parse_stat(zombie), Process::Gone);
        assert_eq!(parse_stat("garbage"), Process::Unknown);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_lives_and_an_ended_or_reused_pid_is_dead() {
        let me = process_owner();
        assert!(!is_dead(&me), "{me}");
        let parts: Vec<&str> = me.split(':').collect();
        let [host, pid, start, tag] = parts.as_slice() else {
            panic!("{me}");
        };
        // The same pid, started at another time: the pid was reused.
        let start: u64 = start.parse().unwrap();
        assert!(is_dead(&format!("{host}:{pid}:{}:{tag}", start + 1)));
        // A child that has ended and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let child_pid = child.id();
        child.wait().unwrap();
        assert!(is_dead(&format!("{host}:{child_pid}:{start}:{tag}")));
        // Not judged: another host, or an owner without a start time.
        assert!(!is_dead(&format!("elsewhere:{child_pid}:{start}:{tag}")));
        assert!(!is_dead(&format!("{host}:{child_pid}:{tag}")));
    }
}
