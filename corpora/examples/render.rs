//! Renders a generator recipe to a Y4M file: a development tool for looking at and measuring
//! the generated scenes.
//!
//! `cargo run --release -p rdbench-corpora --example render -- SCENE SEED WxH FRAMES OUT.y4m`

use std::io::BufWriter;
use std::time::Instant;

use rdbench_corpora::generate::{GenerateSpec, Generator, GeneratorKind};
use rdbench_corpora::{Fps, Recipe};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 5 {
        eprintln!(
            "usage: render SCENE SEED WxH FRAMES OUT.y4m (scenes: {})",
            GeneratorKind::names().join(", ")
        );
        std::process::exit(2);
    }
    let Some(generator) = GeneratorKind::from_name(&args[0]) else {
        eprintln!(
            "unknown scene `{}` (scenes: {})",
            args[0],
            GeneratorKind::names().join(", ")
        );
        std::process::exit(2);
    };
    let number = |s: &str, what: &str| -> u32 {
        s.parse().unwrap_or_else(|_| {
            eprintln!("{what} `{s}` is not a number");
            std::process::exit(2)
        })
    };
    let seed = u64::from(number(&args[1], "seed"));
    let (w, h) = args[2].split_once('x').unwrap_or_else(|| {
        eprintln!("size `{}` is not WxH", args[2]);
        std::process::exit(2)
    });
    let spec = GenerateSpec {
        recipe: Recipe { generator, seed },
        width: number(w, "width"),
        height: number(h, "height"),
        fps: Fps::new(30, 1).expect("30/1 is a valid rate"),
        frames: number(&args[3], "frames"),
    };
    let start = Instant::now();
    let g = Generator::new(spec);
    let set_up = start.elapsed();
    let file = std::fs::File::create(&args[4]).unwrap_or_else(|e| {
        eprintln!("{}: {e}", args[4]);
        std::process::exit(1)
    });
    if let Err(e) = g.write_y4m(BufWriter::new(file)) {
        eprintln!("{}: {e}", args[4]);
        std::process::exit(1);
    }
    eprintln!(
        "{} seed {seed} {}x{} {} frames: set-up {:.2} s, total {:.2} s",
        args[0],
        spec.width,
        spec.height,
        spec.frames,
        set_up.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
}
