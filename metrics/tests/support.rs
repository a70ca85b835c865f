//! Test media and oracles: Y4M clip pairs generated at test time with the `ffmpeg` CLI (lavfi
//! sources, x264 at several CRFs, blur, noise, down-and-up scaling; 8- and 10-bit; 4:2:0, 4:2:2,
//! 4:4:4), and the per-frame scores libvmaf's own `vmaf` tool (built by libvmaf-sys) gives them.

use rdbench_metrics::y4m::{Y4mFrame, Y4mReader};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// A reference/distorted pair of Y4M files.
#[derive(Clone, Debug)]
pub struct Clip {
    pub name: &'static str,
    pub reference: PathBuf,
    pub distorted: PathBuf,
}

/// How a clip is made: lavfi source, size, frames, pixel format, and the distortion.
struct Recipe {
    name: &'static str,
    source: &'static str,
    size: &'static str,
    frames: u32,
    pix_fmt: &'static str,
    distortion: Distortion,
}

enum Distortion {
    /// libx264 at this CRF (preset veryfast), decoded back.
    X264(u32),
    /// A filter chain applied to the reference.
    Filter(&'static str),
}

const RECIPES: &[Recipe] = &[
    Recipe {
        name: "testsrc2-420-8-crf32",
        source: "testsrc2",
        size: "352x288",
        frames: 8,
        pix_fmt: "yuv420p",
        distortion: Distortion::X264(32),
    },
    Recipe {
        name: "testsrc2-420-8-crf45",
        source: "testsrc2",
        size: "352x288",
        frames: 8,
        pix_fmt: "yuv420p",
        distortion: Distortion::X264(45),
    },
    Recipe {
        name: "mandelbrot-420-8-gblur",
        source: "mandelbrot",
        size: "640x480",
        frames: 5,
        pix_fmt: "yuv420p",
        distortion: Distortion::Filter("gblur=sigma=1.5"),
    },
    Recipe {
        name: "mandelbrot-420-8-crf38",
        source: "mandelbrot",
        size: "640x480",
        frames: 5,
        pix_fmt: "yuv420p",
        distortion: Distortion::X264(38),
    },
    Recipe {
        name: "smptehdbars-420-8-rescale",
        source: "smptehdbars",
        size: "1280x720",
        frames: 3,
        pix_fmt: "yuv420p",
        distortion: Distortion::Filter("scale=426:240,scale=1280:720,noise=alls=8:allf=t"),
    },
    Recipe {
        name: "testsrc2-420-8-noise-1080p",
        source: "testsrc2",
        size: "1920x1080",
        frames: 2,
        pix_fmt: "yuv420p",
        distortion: Distortion::Filter("noise=alls=14:allf=t"),
    },
    Recipe {
        name: "testsrc2-420-10-crf30",
        source: "testsrc2",
        size: "352x288",
        frames: 6,
        pix_fmt: "yuv420p10le",
        distortion: Distortion::X264(30),
    },
    Recipe {
        name: "testsrc2-420-10-crf42",
        source: "testsrc2",
        size: "352x288",
        frames: 6,
        pix_fmt: "yuv420p10le",
        distortion: Distortion::X264(42),
    },
    Recipe {
        name: "mandelbrot-420-10-gblur",
        source: "mandelbrot",
        size: "640x480",
        frames: 4,
        pix_fmt: "yuv420p10le",
        distortion: Distortion::Filter("gblur=sigma=2"),
    },
    Recipe {
        name: "testsrc2-444-8-noise",
        source: "testsrc2",
        size: "352x288",
        frames: 4,
        pix_fmt: "yuv444p",
        distortion: Distortion::Filter("noise=alls=20:allf=t"),
    },
    Recipe {
        name: "mandelbrot-422-10-crf34",
        source: "mandelbrot",
        size: "352x288",
        frames: 4,
        pix_fmt: "yuv422p10le",
        distortion: Distortion::X264(34),
    },
];

/// All clips, generated once per test process into a temporary folder.
pub fn clips() -> &'static [Clip] {
    static CLIPS: OnceLock<(tempfile::TempDir, Vec<Clip>)> = OnceLock::new();
    &CLIPS.get_or_init(generate).1
}

/// The clip called `name`.
pub fn clip(name: &str) -> &'static Clip {
    clips()
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no clip {name}"))
}

fn generate() -> (tempfile::TempDir, Vec<Clip>) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let clips = RECIPES.iter().map(|r| make_clip(dir.path(), r)).collect();
    (dir, clips)
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("the ffmpeg CLI must be installed");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_clip(dir: &Path, r: &Recipe) -> Clip {
    let reference = dir.join(format!("{}-ref.y4m", r.name));
    let distorted = dir.join(format!("{}-dist.y4m", r.name));
    let src = format!("{}=size={}:rate=25", r.source, r.size);
    let frames = r.frames.to_string();
    // A light blur gives high bit depth references non-zero low bits.
    let ref_filter = if r.pix_fmt.contains("10") {
        format!("format={},gblur=sigma=0.6", r.pix_fmt)
    } else {
        format!("format={}", r.pix_fmt)
    };
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &src,
        "-frames:v",
        &frames,
        "-vf",
        &ref_filter,
        "-strict",
        "-1",
        ref_path(&reference),
    ]);
    match r.distortion {
        Distortion::X264(crf) => {
            let mkv = dir.join(format!("{}.mkv", r.name));
            let crf = crf.to_string();
            ffmpeg(&[
                "-i",
                ref_path(&reference),
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                &crf,
                "-pix_fmt",
                r.pix_fmt,
                ref_path(&mkv),
            ]);
            ffmpeg(&[
                "-i",
                ref_path(&mkv),
                "-pix_fmt",
                r.pix_fmt,
                "-strict",
                "-1",
                "-f",
                "yuv4mpegpipe",
                ref_path(&distorted),
            ]);
        }
        Distortion::Filter(chain) => {
            let chain = format!("{chain},format={}", r.pix_fmt);
            ffmpeg(&[
                "-i",
                ref_path(&reference),
                "-vf",
                &chain,
                "-strict",
                "-1",
                "-f",
                "yuv4mpegpipe",
                ref_path(&distorted),
            ]);
        }
    }
    Clip {
        name: r.name,
        reference,
        distorted,
    }
}

fn ref_path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// All frames of a Y4M file.
pub fn read_y4m(path: &Path) -> Vec<Y4mFrame> {
    Y4mReader::open(path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// libvmaf's `vmaf` tool: `$RDBENCH_VMAF_TOOL`, or the one libvmaf-sys built for this profile
/// (`target/<profile>/build/libvmaf-sys-*/out/build/tools/vmaf`, newest first).
pub fn vmaf_tool() -> PathBuf {
    if let Some(p) = std::env::var_os("RDBENCH_VMAF_TOOL") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/main-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> =
        std::fs::read_dir(profile_dir.join("build"))
            .expect("build folder")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("libvmaf-sys-"))
            .map(|e| e.path().join("out/build/tools/vmaf"))
            .filter(|p| p.is_file())
            .map(|p| (p.metadata().unwrap().modified().unwrap(), p))
            .collect();
    found.sort();
    found
        .pop()
        .map(|(_, p)| p)
        .expect("libvmaf-sys did not build the vmaf tool")
}

/// Per-frame metric values, by name, of each frame.
pub type FrameMetrics = Vec<BTreeMap<String, f64>>;

/// Per-frame metrics from the `vmaf` tool for `clip` with `args` (cached per clip and args).
pub fn tool_frames(clip: &Clip, args: &[&str]) -> Vec<BTreeMap<String, f64>> {
    type Cache = Mutex<HashMap<(String, Vec<String>), FrameMetrics>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (
        clip.name.to_string(),
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    if let Some(v) = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .get(&key)
    {
        return v.clone();
    }
    let out = tempfile::NamedTempFile::new().unwrap();
    let status = Command::new(vmaf_tool())
        .arg("-r")
        .arg(&clip.reference)
        .arg("-d")
        .arg(&clip.distorted)
        .args(["--threads", "1", "-q", "--json", "-o"])
        .arg(out.path())
        .args(args)
        .output()
        .expect("run the vmaf tool");
    assert!(
        status.status.success(),
        "vmaf tool failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path()).unwrap()).unwrap();
    let frames: Vec<BTreeMap<String, f64>> = json["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["metrics"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
                .collect()
        })
        .collect();
    CACHE
        .get()
        .unwrap()
        .lock()
        .unwrap()
        .insert(key, frames.clone());
    frames
}

/// The standard oracle run: default model plus PSNR, SSIM and MS-SSIM features.
pub fn tool_standard(clip: &Clip) -> Vec<BTreeMap<String, f64>> {
    tool_frames(
        clip,
        &[
            "--feature",
            "psnr",
            "--feature",
            "float_ssim",
            "--feature",
            "float_ms_ssim",
        ],
    )
}

/// Asserts |a − b| ≤ tol with a readable message.
#[track_caller]
pub fn assert_close(what: &str, ours: f64, oracle: f64, tol: f64) {
    assert!(
        (ours - oracle).abs() <= tol,
        "{what}: rdbench {ours} vs oracle {oracle} (diff {:e}, tolerance {tol:e})",
        ours - oracle
    );
}

/// The (reference, distorted) frame pairs of a clip.
pub fn pairs(clip: &Clip) -> Vec<(Y4mFrame, Y4mFrame)> {
    let r = read_y4m(&clip.reference);
    let d = read_y4m(&clip.distorted);
    assert_eq!(r.len(), d.len(), "{}: frame counts", clip.name);
    r.into_iter().zip(d).collect()
}

/// Evaluates `$body` with `$a`, `$b` bound to the two frames of a pair, whatever their sample type.
#[macro_export]
macro_rules! on_pair {
    ($pair:expr, |$a:ident, $b:ident| $body:expr) => {
        match $pair {
            (rdbench_metrics::Y4mFrame::U8($a), rdbench_metrics::Y4mFrame::U8($b)) => $body,
            (rdbench_metrics::Y4mFrame::U16($a), rdbench_metrics::Y4mFrame::U16($b)) => $body,
            _ => panic!("reference and distorted bit depths differ"),
        }
    };
}
