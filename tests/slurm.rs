//! A real single-node Slurm cluster runs `examples/cluster/slurm-array.sh` as a user submits it,
//! and the merged shards equal the unsharded run; and it runs `examples/cluster/slurm-chunked.sh`,
//! whose slices of one chunked transcode join into the output of the same job in one process.
//!
//! The test starts Debian's `munged`, `slurmctld` and `slurmd` itself, from a `slurm.conf` it
//! generates in a temporary folder (the machine's host name and cores, free loopback ports, its
//! own munge key and socket), and stops them when it ends, whatever the outcome. Nothing of the
//! machine's own configuration is read or changed: every client command gets `SLURM_CONF`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench::{bench, comparable_rows, suite, tiny_corpus};
use crate::support::*;

/// The daemons of a one-node cluster; dropping it stops them.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // slurmd first (it may still run job steps), then the controller, then munge.
        for (_, child) in self.daemons.iter_mut().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let start = Instant::now();
            while child.try_wait().ok().flatten().is_none() {
                if start.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// A free TCP port on loopback (bound and released; the daemons bind it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    name.trim().split('.').next().unwrap().to_string()
}

/// Fails (never skips) when a program the test needs is missing, saying how to get it.
fn require(programs: &[&str]) {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {p}")])
                .stdout(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "the Slurm test needs {missing:?} (Debian packages slurm-wlm and munge); \
         `cargo xtask test` installs them as root, otherwise run: apt-get install -y slurm-wlm munge"
    );
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        require(&["munged", "slurmctld", "slurmd", "sbatch", "sinfo"]);
        let dir = dir.join("slurm");
        for sub in ["state", "spool", "log"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let key = dir.join("munge.key");
        let bytes: Vec<u8> = (0..1024u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        std::fs::write(&key, bytes).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400)).unwrap();
        let socket = dir.join("munge.sock");
        let host = host_name();
        let cpus = std::thread::available_parallelism().unwrap().get();
        let d = dir.display();
        let conf = dir.join("slurm.conf");
        std::fs::write(
            &conf,
            format!(
                "ClusterName=rdbench-test\n\
                 SlurmctldHost={host}(127.0.0.1)\n\
                 SlurmUser=root\nSlurmdUser=root\n\
                 SlurmctldPort={}\nSlurmdPort={}\n\
                 AuthType=auth/munge\nCredType=cred/munge\nAuthInfo=socket={}\n\
                 StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
                 SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
                 SlurmctldLogFile={d}/log/slurmctld.log\nSlurmdLogFile={d}/log/slurmd.log\n\
                 ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
                 SelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\n\
                 SchedulerType=sched/builtin\nJobAcctGatherType=jobacct_gather/none\n\
                 AccountingStorageType=accounting_storage/none\nMpiDefault=none\n\
                 ReturnToService=2\nInactiveLimit=0\nKillWait=5\nWaittime=0\nMinJobAge=300\n\
                 NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN\n\
                 PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
                free_port(),
                free_port(),
                socket.display()
            ),
        )
        .unwrap();
        let mut cluster = Cluster {
            dir: dir.clone(),
            conf: conf.clone(),
            daemons: Vec::new(),
        };
        let log = |name: &str| std::fs::File::create(dir.join("log").join(name)).unwrap();
        let spawn = |cmd: &mut Command, name: &str| {
            cmd.stdin(Stdio::null())
                .stdout(log(&format!("{name}.out")))
                .stderr(log(&format!("{name}.err")))
                .env("SLURM_CONF", &conf)
                .spawn()
                .unwrap_or_else(|e| panic!("{name} does not start: {e}"))
        };
        // --force: munged refuses a key and socket under a world-writable /tmp otherwise.
        let munged = spawn(
            Command::new("munged")
                .args(["--foreground", "--force"])
                .arg(format!("--key-file={}", key.display()))
                .arg(format!("--socket={}", socket.display()))
                .arg(format!("--pid-file={d}/munged.pid"))
                .arg(format!("--log-file={d}/log/munged.log"))
                .arg(format!("--seed-file={d}/munged.seed")),
            "munged",
        );
        cluster.daemons.push(("munged", munged));
        cluster.wait_for(|| socket.exists(), "munged's socket");
        let ctld = spawn(
            Command::new("slurmctld")
                .args(["-D", "-c", "-f"])
                .arg(&conf),
            "slurmctld",
        );
        cluster.daemons.push(("slurmctld", ctld));
        let slurmd = spawn(
            Command::new("slurmd")
                .args(["-D", "-N", &host, "-f"])
                .arg(&conf),
            "slurmd",
        );
        cluster.daemons.push(("slurmd", slurmd));
        let conf2 = conf.clone();
        cluster.wait_for(
            move || {
                Command::new("sinfo")
                    .args(["-h", "-o", "%T"])
                    .env("SLURM_CONF", &conf2)
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
                    .unwrap_or(false)
            },
            "the node to be idle",
        );
        cluster
    }

    /// Polls `ready` for up to a minute; panics with the daemons' logs otherwise.
    fn wait_for(&mut self, ready: impl Fn() -> bool, what: &str) {
        let start = Instant::now();
        while !ready() {
            let exited = self
                .daemons
                .iter_mut()
                .find_map(|(name, child)| Some((*name, child.try_wait().ok()??)));
            if let Some((name, status)) = exited {
                panic!("{name} exited ({status}) before {what}:\n{}", self.logs());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no {what} after a minute:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn logs(&self) -> String {
        let mut all = String::new();
        if let Ok(dir) = std::fs::read_dir(self.dir.join("log")) {
            for e in dir.flatten() {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                all += &format!("--- {}\n", e.file_name().to_string_lossy());
                for l in tail.into_iter().rev() {
                    all += l;
                    all += "\n";
                }
            }
        }
        all
    }
}

#[test]
fn a_slurm_array_of_three_shards_merges_into_the_unsharded_run() {
    let _heavy = heavy();
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path(), 8);
    // As in the two-shard test: repeated encodes are byte-identical.
    let s = suite(d.path(), &corpus, "veryfast", "");
    bench(
        d.path(),
        &[
            "--suite",
            s.to_str().unwrap(),
            "--no-cache",
            "--run-id",
            "full",
        ],
    );

    let cluster = Cluster::start(d.path());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cluster/slurm-array.sh");
    let bin = Path::new(env!("CARGO_BIN_EXE_rdbench")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    // The shards share their own cache (a cluster's shared folder), empty at the start, so every
    // job is encoded again rather than read from the unsharded run's cache.
    let out = Command::new("sbatch")
        .args(["--wait", "--parsable", "--array=0-2"])
        .arg(format!("--output={}/slurm-%A_%a.out", d.path().display()))
        .arg(format!("--chdir={}", d.path().display()))
        .arg(&script)
        .arg(&s)
        .env("SLURM_CONF", &cluster.conf)
        .env("PATH", path)
        .env("RUNS", d.path().join("runs"))
        .env("RDBENCH_CACHE", d.path().join("cluster-cache"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let task_logs = || {
        let mut all = String::new();
        for e in std::fs::read_dir(d.path()).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("slurm-") {
                all += &format!("--- {n}\n{}", std::fs::read_to_string(e.path()).unwrap());
            }
        }
        all
    };
    assert!(
        out.status.success(),
        "sbatch --wait: {}{}\n{}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr),
        task_logs(),
        cluster.logs()
    );
    let array_id = stdout.trim().split(';').next().unwrap().to_string();
    assert!(array_id.parse::<u64>().is_ok(), "sbatch printed `{stdout}`");

    let shards: Vec<PathBuf> = (1..=3)
        .map(|k| {
            d.path()
                .join(format!("runs/nightly-{array_id}-shard{k}of3"))
        })
        .collect();
    for s in &shards {
        assert!(
            s.join("summary.json").exists(),
            "{} is missing:\n{}",
            s.display(),
            task_logs()
        );
    }
    let counts: Vec<usize> = shards.iter().map(|s| comparable_rows(s).len()).collect();
    assert_eq!(counts.iter().sum::<usize>(), 24, "shard sizes {counts:?}");
    assert!(counts.iter().all(|&n| n == 8), "uneven shards {counts:?}");

    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|s| s.display().to_string()));
    args.extend(["--out".into(), "runs/merged".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let m = rdbench(d.path(), &args);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let merged = comparable_rows(&d.path().join("runs/merged"));
    let full = comparable_rows(&d.path().join("runs/full"));
    assert_eq!(merged.len(), 24);
    assert!(
        merged == full,
        "the merged run differs from the unsharded one apart from timings"
    );
    drop(cluster);
    let left = Command::new("pgrep")
        .args(["-f", &d.path().join("slurm").display().to_string()])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&left.stdout).trim().is_empty(),
        "daemons still running after the test: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

/// The video stream of `path`, hashed by the ffmpeg CLI.
fn video_md5(dir: &Path, path: &str) -> String {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i", path])
        .args(["-map", "0:v", "-c", "copy", "-f", "md5", "-"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_slurm_array_transcodes_slices_of_one_chunked_job_that_join_into_the_one_process_output() {
    let _heavy = heavy();
    let d = tempfile::tempdir().unwrap();
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=12",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=12",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "src.mp4",
        ],
    );
    let job = |out: &str| {
        format!(
            "input = \"src.mp4\"\n[execution]\nchunked = {{ seconds = 2 }}\n[[output]]\npath = \"{out}\"\n\
             codec = \"libx264\"\npreset = \"veryfast\"\nthreads = 1\nrc = {{ mode = \"crf\", value = 23 }}\n\
             audio = {{ codec = \"aac\" }}\n"
        )
    };
    std::fs::write(d.path().join("one.toml"), job("one.mp4")).unwrap();
    std::fs::write(d.path().join("movie.toml"), job("movie.mp4")).unwrap();
    let one = rdbench(d.path(), &["transcode", "one.toml"]);
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );

    let cluster = Cluster::start(d.path());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cluster/slurm-chunked.sh");
    let bin = Path::new(env!("CARGO_BIN_EXE_rdbench")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = Command::new("sbatch")
        .args(["--wait", "--parsable", "--array=0-2"])
        .arg(format!("--output={}/slurm-%A_%a.out", d.path().display()))
        .arg(format!("--chdir={}", d.path().display()))
        .arg(&script)
        .arg("movie.toml")
        .env("SLURM_CONF", &cluster.conf)
        .env("PATH", path)
        .output()
        .unwrap();
    let logs = || {
        let mut all = String::new();
        for e in std::fs::read_dir(d.path()).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("slurm-") {
                all += &format!("--- {n}\n{}", std::fs::read_to_string(e.path()).unwrap());
            }
        }
        all
    };
    assert!(
        out.status.success(),
        "sbatch --wait: {}{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        logs(),
        cluster.logs()
    );
    drop(cluster);
    // Six 2 s chunks in three slices: every chunk made, no output yet.
    let chunks = d.path().join("movie.mp4.chunks");
    for k in 0..6 {
        assert!(
            chunks.join(format!("{k:05}.mp4")).is_file(),
            "chunk {k}:\n{}",
            logs()
        );
    }
    assert!(!d.path().join("movie.mp4").exists());
    let join = rdbench(d.path(), &["transcode", "movie.toml", "--join"]);
    assert!(
        join.status.success(),
        "{}",
        String::from_utf8_lossy(&join.stderr)
    );
    assert!(String::from_utf8_lossy(&join.stdout).contains("300 frames"));
    assert_eq!(
        video_md5(d.path(), "movie.mp4"),
        video_md5(d.path(), "one.mp4")
    );
    assert!(!chunks.exists());
}
