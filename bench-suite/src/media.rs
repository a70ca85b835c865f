//! The corpus's media decoder, implemented with the transcode core: probing a file's video
//! stream and decoding it into a Y4M file through the same pipeline production transcodes use
//! (so every format the core reads is a possible sequence).

use std::path::Path;

use rdbench_corpora::{DecodeRequest, Fps, MediaDecoder, MediaProbe};
use rdbench_transcode::input::{self, InputSource};
use rdbench_transcode::job::{self as tjob, NoProgress};
use rdbench_transcode::spec::{AudioKeyword, AudioSpec, JobSpec, OutputSettings};

/// Decodes media files with the transcode core.
#[derive(Clone, Copy, Debug, Default)]
pub struct CoreDecoder;

impl MediaDecoder for CoreDecoder {
    fn probe(&self, path: &Path) -> Result<MediaProbe, String> {
        let source = InputSource::File(path.to_path_buf());
        let ctx = input::open(&source).map_err(|e| strip(e.to_string(), path))?;
        let v = input::video_info(&ctx, path).map_err(|e| strip(e.to_string(), path))?;
        let nominal = v.base_rate.unwrap_or(v.rate);
        let fps = Fps::new(nominal.num as u32, nominal.den as u32).ok_or_else(|| {
            format!(
                "the video stream has no frame rate ({}/{})",
                nominal.num, nominal.den
            )
        })?;
        // Containers often declare a constant rate for a stream whose timestamps are not:
        // the packets' own times decide.
        let times =
            input::video_timestamps(&source, usize::MAX).map_err(|e| strip(e.to_string(), path))?;
        let reached = times
            .last()
            .map_or(0.0, |t| t - times[0] + 1.0 / nominal.fps());
        if input::is_truncated(v.duration_s, reached) {
            return Err(strip(
                rdbench_transcode::Error::Truncated {
                    path: path.to_path_buf(),
                    reached_s: reached,
                    declared_s: v.duration_s.unwrap_or(0.0),
                }
                .to_string(),
                path,
            ));
        }
        let (average, variable) = rate_of(&times, nominal.fps()).unwrap_or((v.rate.fps(), false));
        Ok(MediaProbe {
            width: v.width,
            height: v.height,
            fps,
            frames: v.frames,
            bit_depth: v.bit_depth,
            chroma: rdbench_transcode::media::chroma_layout(v.pix_fmt).to_string(),
            pix_fmt: rdbench_transcode::media::pix_fmt_name(v.pix_fmt),
            variable_rate: variable,
            average_fps: average,
        })
    }

    fn decode(&self, path: &Path, dest: &Path, request: &DecodeRequest) -> Result<(), String> {
        let spec = JobSpec::serial(
            path.to_string_lossy().into_owned(),
            vec![OutputSettings {
                path: Some(dest.to_string_lossy().into_owned()),
                format: Some("y4m".into()),
                pix_fmt: Some(request.pix_fmt.clone()),
                // The container may declare the very rate it does not keep to, so the
                // resampling is asked for explicitly rather than planned from the rates.
                filter: request.cfr.map(|f| format!("fps={}/{}", f.num(), f.den())),
                audio: Some(AudioSpec::Keyword(AudioKeyword::Drop)),
                passthrough: Some(false),
                ..Default::default()
            }],
        );
        let job = tjob::Job::from_spec(&spec, None, None).map_err(|e| e.to_string())?;
        if let Some((_, _, e)) = job.rejected.first() {
            return Err(e.to_string());
        }
        let report = tjob::run(&job, &NoProgress).map_err(|e| strip(e.to_string(), path))?;
        match report.outputs.first() {
            Some(o) => match &o.error {
                Some(e) => Err(strip(e.to_string(), path)),
                None if o.frames == 0 => Err("decodes to no frames".into()),
                None => Ok(()),
            },
            None => Err("the decode produced no output".into()),
        }
    }
}

/// The average rate of frames at `times` (sorted presentation times) and whether it varies: a
/// step between frames that is off the nominal frame duration by more than a quarter of it.
pub fn rate_of(times: &[f64], nominal_fps: f64) -> Option<(f64, bool)> {
    if times.len() < 3 || nominal_fps <= 0.0 {
        return None;
    }
    let span = times[times.len() - 1] - times[0];
    if span <= 0.0 {
        return None;
    }
    let average = (times.len() - 1) as f64 / span;
    let step = 1.0 / nominal_fps;
    let irregular = times
        .windows(2)
        .any(|w| ((w[1] - w[0]) - step).abs() > 0.25 * step);
    Some((average, irregular))
}

/// The core's messages start with the file's path; the corpus names the file itself.
fn strip(message: String, path: &Path) -> String {
    let prefix = format!("{}: ", path.display());
    message
        .strip_prefix(&prefix)
        .map(str::to_owned)
        .unwrap_or(message)
}

#[cfg(test)]
mod tests {
    use super::rate_of;

    #[test]
    fn gaps_in_the_timestamps_make_a_variable_rate() {
        let cfr: Vec<f64> = (0..30).map(|i| i as f64 / 30.0).collect();
        let (avg, vfr) = rate_of(&cfr, 30.0).unwrap();
        assert!((avg - 30.0).abs() < 1e-9 && !vfr);
        let gaps: Vec<f64> = (0..30)
            .filter(|i| i % 10 != 5)
            .map(|i| i as f64 / 30.0)
            .collect();
        let (avg, vfr) = rate_of(&gaps, 30.0).unwrap();
        assert!(vfr && avg < 30.0);
        // Millisecond timestamps of a 30 fps stream are not a variable rate.
        let ms: Vec<f64> = (0..30)
            .map(|i| (i as f64 * 1000.0 / 30.0).round() / 1000.0)
            .collect();
        assert!(!rate_of(&ms, 30.0).unwrap().1);
    }
}
