//! YUV4MPEG2 (`.y4m`) streams, the raw format rdbench's sources, generated sequences and decoded
//! test media come in: the header ([`Y4mHeader`]), a reader yielding [`OwnedFrame`]s (or the
//! stored bytes), and a writer taking [`FrameView`]s. The corpus, the metrics and the tests all
//! read and write Y4M through this one module.
//!
//! Supported colourspaces (`C` tag): `420jpeg`, `420mpeg2`, `420paldv`, `420`, `422`, `444` (8-bit)
//! and `420pN`, `422pN`, `444pN` for N = 9 to 16 (little-endian 16-bit samples). A missing `C`
//! tag means `420jpeg`. Luma-only (`mono`) and alpha (`444alpha`) streams are refused with a clear
//! error. Interlacing, aspect and `X` extension tags are kept but not interpreted.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::fps::Fps;
use crate::frame::{ChromaSampling, FrameView, OwnedFrame, Sample};

const MAGIC: &str = "YUV4MPEG2";
const MAX_LINE: usize = 4096;

/// Why a Y4M stream cannot be read: every message starts with the file (or `<stream>`).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Y4mError {
    /// The file cannot be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file (or stream name).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The stream is malformed or in a format this reader does not handle.
    #[error("{path}: Y4M: {message}")]
    Format {
        /// The file (or stream name).
        path: PathBuf,
        /// What is wrong, in one line.
        message: String,
    },
}

impl Y4mError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Y4mError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A format error in `path`.
    pub fn format(path: &Path, message: impl Into<String>) -> Self {
        Y4mError::Format {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

type Result<T> = std::result::Result<T, Y4mError>;

/// The stream header of a Y4M file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Y4mHeader {
    /// Luma width.
    pub width: usize,
    /// Luma height.
    pub height: usize,
    /// Frame rate.
    pub fps: Fps,
    /// Chroma subsampling.
    pub sampling: ChromaSampling,
    /// Bits per sample (8 to 16).
    pub bit_depth: u8,
    /// The `C` tag as written (`420jpeg`, `420p10`...), or the one this crate writes.
    pub colourspace: String,
    /// The `I` tag (`p`, `t`, `b`, `m`), if present.
    pub interlace: Option<char>,
    /// The `A` tag (pixel aspect ratio), if present.
    pub aspect: Option<(u32, u32)>,
    /// `X` extension tags, without the `X`, in order (e.g. `COLORRANGE=LIMITED`).
    pub extensions: Vec<String>,
}

impl Y4mHeader {
    /// A progressive header with square pixels and the conventional colourspace tag for the
    /// sampling and bit depth (`420jpeg` for 8-bit 4:2:0: chroma sited between luma samples).
    pub fn new(
        width: usize,
        height: usize,
        fps: Fps,
        sampling: ChromaSampling,
        bit_depth: u8,
    ) -> Self {
        let base = match sampling {
            ChromaSampling::Cs420 => "420",
            ChromaSampling::Cs422 => "422",
            ChromaSampling::Cs444 => "444",
        };
        let colourspace = match (sampling, bit_depth) {
            (ChromaSampling::Cs420, 8) => "420jpeg".to_string(),
            (_, 8) => base.to_string(),
            (_, n) => format!("{base}p{n}"),
        };
        Y4mHeader {
            width,
            height,
            fps,
            sampling,
            bit_depth,
            colourspace,
            interlace: Some('p'),
            aspect: Some((1, 1)),
            extensions: Vec::new(),
        }
    }

    /// Bytes per sample: 1 for 8-bit, 2 above.
    pub fn bytes_per_sample(&self) -> usize {
        if self.bit_depth > 8 {
            2
        } else {
            1
        }
    }

    /// Bytes of one frame's samples (without the `FRAME` line).
    pub fn frame_bytes(&self) -> usize {
        let (cw, ch) = self.sampling.chroma_size(self.width, self.height);
        (self.width * self.height + 2 * cw * ch) * self.bytes_per_sample()
    }

    /// The header line, with its trailing newline.
    pub fn to_line(&self) -> String {
        let mut s = format!(
            "{MAGIC} W{} H{} F{}:{}",
            self.width,
            self.height,
            self.fps.num(),
            self.fps.den()
        );
        if let Some(i) = self.interlace {
            s.push_str(&format!(" I{i}"));
        }
        if let Some((n, d)) = self.aspect {
            s.push_str(&format!(" A{n}:{d}"));
        }
        s.push_str(&format!(" C{}", self.colourspace));
        for x in &self.extensions {
            s.push_str(&format!(" X{x}"));
        }
        s.push('\n');
        s
    }

    /// Parses a header line (without or with its newline).
    pub fn parse(line: &str) -> std::result::Result<Self, String> {
        let line = line.trim_end_matches(['\n', '\r']);
        let mut tokens = line.split(' ').filter(|t| !t.is_empty());
        if tokens.next() != Some(MAGIC) {
            return Err("not a Y4M stream (no YUV4MPEG2 signature)".into());
        }
        let (mut width, mut height, mut fps) = (None, None, None);
        let (mut interlace, mut aspect, mut colourspace) = (None, None, None);
        let mut extensions = Vec::new();
        for t in tokens {
            // The tag is the first character, which need not be one byte in a damaged header.
            let (tag, value) = t.split_at(t.chars().next().map_or(0, char::len_utf8));
            match tag {
                "W" => {
                    width = Some(
                        value
                            .parse::<usize>()
                            .map_err(|_| format!("bad width `{value}`"))?,
                    )
                }
                "H" => {
                    height = Some(
                        value
                            .parse::<usize>()
                            .map_err(|_| format!("bad height `{value}`"))?,
                    )
                }
                "F" => {
                    let (n, d) =
                        parse_ratio(value).ok_or_else(|| format!("bad frame rate `{value}`"))?;
                    fps = Some(
                        Fps::new(n, d)
                            .ok_or_else(|| format!("frame rate `{value}` is not positive"))?,
                    );
                }
                "I" => interlace = value.chars().next(),
                "A" => aspect = parse_ratio(value),
                "C" => colourspace = Some(value.to_string()),
                "X" => extensions.push(value.to_string()),
                _ => return Err(format!("unknown header tag `{t}`")),
            }
        }
        let width = width
            .filter(|w| *w > 0)
            .ok_or("missing or zero width (W)")?;
        let height = height
            .filter(|h| *h > 0)
            .ok_or("missing or zero height (H)")?;
        let fps = fps.ok_or("missing frame rate (F)")?;
        let colourspace = colourspace.unwrap_or_else(|| "420jpeg".to_string());
        let (sampling, bit_depth) = parse_colourspace(&colourspace)?;
        Ok(Y4mHeader {
            width,
            height,
            fps,
            sampling,
            bit_depth,
            colourspace,
            interlace,
            aspect,
            extensions,
        })
    }
}

fn parse_ratio(v: &str) -> Option<(u32, u32)> {
    let (n, d) = v.split_once(':')?;
    Some((n.parse().ok()?, d.parse().ok()?))
}

fn parse_colourspace(c: &str) -> std::result::Result<(ChromaSampling, u8), String> {
    let sampling = match c.get(..3) {
        Some("420") => ChromaSampling::Cs420,
        Some("422") => ChromaSampling::Cs422,
        Some("444") if c != "444alpha" => ChromaSampling::Cs444,
        _ if c.starts_with("mono") => {
            return Err(format!("colourspace `{c}` (luma only) is not supported"))
        }
        _ => return Err(format!("colourspace `{c}` is not supported")),
    };
    let rest = &c[3..];
    let depth = match rest {
        "" | "jpeg" | "mpeg2" | "paldv" => 8,
        _ => match rest.strip_prefix('p').and_then(|d| d.parse::<u8>().ok()) {
            Some(d) if (9..=16).contains(&d) => d,
            _ => return Err(format!("colourspace `{c}` is not supported")),
        },
    };
    Ok((sampling, depth))
}

/// One decoded frame, 8-bit or high bit depth.
#[derive(Clone, Debug, PartialEq)]
pub enum Y4mFrame {
    /// 8-bit samples.
    U8(OwnedFrame<u8>),
    /// 9- to 16-bit samples.
    U16(OwnedFrame<u16>),
}

/// Reads frames from a Y4M stream.
#[derive(Debug)]
pub struct Y4mReader<R> {
    input: R,
    name: PathBuf,
    header: Y4mHeader,
    frame_index: u64,
    buf: Vec<u8>,
}

impl Y4mReader<BufReader<File>> {
    /// Opens a file and reads its header.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Y4mError::io(path, e))?;
        Y4mReader::with_name(BufReader::with_capacity(1 << 20, file), path)
    }
}

impl<R: BufRead> Y4mReader<R> {
    /// Reads the header from `input`; errors call the stream `<stream>`.
    pub fn new(input: R) -> Result<Self> {
        Y4mReader::with_name(input, "<stream>")
    }

    /// Reads the header from `input`; errors name it `name`.
    pub fn with_name(mut input: R, name: impl Into<PathBuf>) -> Result<Self> {
        let name = name.into();
        let line =
            read_line(&mut input, &name)?.ok_or_else(|| Y4mError::format(&name, "empty file"))?;
        let header = Y4mHeader::parse(&line).map_err(|message| Y4mError::format(&name, message))?;
        Ok(Y4mReader {
            input,
            name,
            header,
            frame_index: 0,
            buf: Vec::new(),
        })
    }

    /// The stream header.
    pub fn header(&self) -> &Y4mHeader {
        &self.header
    }

    /// Frames read (or skipped) so far.
    pub fn frames_read(&self) -> u64 {
        self.frame_index
    }

    fn err(&self, message: String) -> Y4mError {
        Y4mError::format(&self.name, message)
    }

    /// Reads the next `FRAME` line; `false` at a clean end of stream.
    fn frame_line(&mut self) -> Result<bool> {
        match read_line(&mut self.input, &self.name)? {
            None => Ok(false),
            Some(l) if l == "FRAME" || l.starts_with("FRAME ") => Ok(true),
            Some(l) => {
                let shown: String = l.chars().take(20).collect();
                Err(self.err(format!(
                    "frame {}: expected a FRAME line, found `{shown}`",
                    self.frame_index
                )))
            }
        }
    }

    /// The next frame's sample bytes as stored (planes Y, Cb, Cr; 16-bit samples little-endian),
    /// or `None` at the end of the stream.
    pub fn read_frame_bytes(&mut self) -> Result<Option<&[u8]>> {
        if !self.frame_line()? {
            return Ok(None);
        }
        let n = self.header.frame_bytes();
        self.buf.resize(n, 0);
        let mut got = 0;
        while got < n {
            match self.input.read(&mut self.buf[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Y4mError::io(&self.name, e)),
            }
        }
        if got < n {
            return Err(self.err(format!(
                "frame {} is truncated: {got} of {n} bytes",
                self.frame_index
            )));
        }
        self.frame_index += 1;
        Ok(Some(&self.buf))
    }

    /// The next frame, 8-bit or high bit depth, or `None` at the end of the stream.
    pub fn read_frame(&mut self) -> Result<Option<Y4mFrame>> {
        let mut frame = self.blank_frame();
        Ok(self.read_into(&mut frame)?.then_some(frame))
    }

    /// A frame of this stream's format, all zeros (a buffer for [`read_into`](Self::read_into)).
    pub fn blank_frame(&self) -> Y4mFrame {
        let h = &self.header;
        if h.bit_depth == 8 {
            Y4mFrame::U8(OwnedFrame::new(h.width, h.height, 8, h.sampling))
        } else {
            Y4mFrame::U16(OwnedFrame::new(h.width, h.height, h.bit_depth, h.sampling))
        }
    }

    /// Reads the next frame into `frame`, reusing its buffers (a frame of another format is
    /// replaced); `false` at a clean end of the stream. The samples go from the file straight
    /// into the planes, with no staging copy.
    pub fn read_into(&mut self, frame: &mut Y4mFrame) -> Result<bool> {
        if !self.frame_line()? {
            return Ok(false);
        }
        self.fit(frame, false);
        let mut got = 0;
        match frame {
            Y4mFrame::U8(f) => {
                for p in &mut f.planes {
                    got += self.fill(p)?;
                }
            }
            Y4mFrame::U16(f) => {
                for p in &mut f.planes {
                    got += self.fill_u16(p)?;
                }
            }
        }
        self.frame_read(got)
    }

    /// Makes `frame` a frame of this stream's format (replacing it when it is not), with empty
    /// chroma planes when `luma_only`.
    fn fit(&self, frame: &mut Y4mFrame, luma_only: bool) {
        let h = &self.header;
        let fits = match frame {
            Y4mFrame::U8(f) => h.bit_depth == 8 && same_format(f, h),
            Y4mFrame::U16(f) => h.bit_depth > 8 && f.bit_depth == h.bit_depth && same_format(f, h),
        };
        if !fits {
            *frame = self.blank_frame();
        }
        let (cw, ch) = h.sampling.chroma_size(h.width, h.height);
        let chroma = if luma_only { 0 } else { cw * ch };
        match frame {
            Y4mFrame::U8(f) => f.planes[1..].iter_mut().for_each(|p| p.resize(chroma, 0)),
            Y4mFrame::U16(f) => f.planes[1..].iter_mut().for_each(|p| p.resize(chroma, 0)),
        }
    }

    /// Counts a frame whose samples took `got` bytes: an error when that is short of a frame.
    fn frame_read(&mut self, got: usize) -> Result<bool> {
        let n = self.header.frame_bytes();
        if got < n {
            return Err(self.err(format!(
                "frame {} is truncated: {got} of {n} bytes",
                self.frame_index
            )));
        }
        self.frame_index += 1;
        Ok(true)
    }

    /// [`fill`](Self::fill) for 16-bit samples (stored little-endian); the bytes read.
    fn fill_u16(&mut self, p: &mut [u16]) -> Result<usize> {
        let got = self.fill(bytemuck::cast_slice_mut(p))?;
        // Nothing to do on a little-endian machine.
        for s in p.iter_mut() {
            *s = u16::from_le(*s);
        }
        Ok(got)
    }

    /// Reads until `buf` is full or the stream ends; the bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match self.input.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Y4mError::io(&self.name, e)),
            }
        }
        Ok(got)
    }

    /// The next frame of an 8-bit stream; an error for a high-bit-depth stream.
    pub fn read_frame_u8(&mut self) -> Result<Option<OwnedFrame<u8>>> {
        match self.read_frame()? {
            None => Ok(None),
            Some(Y4mFrame::U8(f)) => Ok(Some(f)),
            Some(Y4mFrame::U16(_)) => Err(self.err(format!(
                "{}-bit stream read as 8-bit",
                self.header.bit_depth
            ))),
        }
    }

    /// The next frame of a high-bit-depth stream; an error for an 8-bit stream.
    pub fn read_frame_u16(&mut self) -> Result<Option<OwnedFrame<u16>>> {
        match self.read_frame()? {
            None => Ok(None),
            Some(Y4mFrame::U16(f)) => Ok(Some(f)),
            Some(Y4mFrame::U8(_)) => Err(self.err("8-bit stream read as high bit depth".into())),
        }
    }
}

impl<R: BufRead> Iterator for Y4mReader<R> {
    type Item = Result<Y4mFrame>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_frame().transpose()
    }
}

/// Whether `f` is a tightly packed frame of the header's size and sampling.
fn same_format<T: Sample>(f: &OwnedFrame<T>, h: &Y4mHeader) -> bool {
    let (cw, _) = h.sampling.chroma_size(h.width, h.height);
    f.width == h.width
        && f.height == h.height
        && f.sampling == h.sampling
        && f.strides == [h.width, cw, cw]
}

impl<R: BufRead + Seek> Y4mReader<R> {
    /// Reads the next frame's luma into `frame` and skips its chroma without reading it: the
    /// chroma planes are left empty (so [`OwnedFrame::view`] refuses the frame; the caller
    /// supplies chroma of its own). `false` at a clean end of the stream; a frame cut short is
    /// an error, as [`read_into`](Self::read_into) says.
    pub fn read_luma_into(&mut self, frame: &mut Y4mFrame) -> Result<bool> {
        if !self.frame_line()? {
            return Ok(false);
        }
        self.fit(frame, true);
        let mut got = match frame {
            Y4mFrame::U8(f) => self.fill(&mut f.planes[0])?,
            Y4mFrame::U16(f) => self.fill_u16(&mut f.planes[0])?,
        };
        let h = &self.header;
        let luma = h.width * h.height * h.bytes_per_sample();
        if got == luma {
            got += self.skip_bytes((h.frame_bytes() - luma) as u64)? as usize;
        }
        self.frame_read(got)
    }

    /// Moves `n` bytes on, or to the end of the stream if it is nearer; the bytes moved.
    fn skip_bytes(&mut self, n: u64) -> Result<u64> {
        let io = |e| Y4mError::io(&self.name, e);
        let here = self.input.stream_position().map_err(io)?;
        let end = self.input.seek(SeekFrom::End(0)).map_err(io)?;
        let k = n.min(end.saturating_sub(here));
        self.input.seek(SeekFrom::Start(here + k)).map_err(io)?;
        Ok(k)
    }

    /// Skips the next frame without reading its samples; `false` at the end of the stream.
    /// A frame cut short by the end of the file is an error.
    pub fn skip_frame(&mut self) -> Result<bool> {
        if !self.frame_line()? {
            return Ok(false);
        }
        let n = self.header.frame_bytes();
        let got = self.skip_bytes(n as u64)? as usize;
        self.frame_read(got)
    }
}

/// The header and frame count of a Y4M file, found by skipping over the frames.
pub fn probe(path: &Path) -> Result<(Y4mHeader, u64)> {
    let mut r = Y4mReader::open(path)?;
    while r.skip_frame()? {}
    Ok((r.header.clone(), r.frame_index))
}

/// Reads one `\n`-terminated line (without the newline); `None` at end of stream. A final line
/// without newline is an error, as is one longer than [`MAX_LINE`].
fn read_line<R: BufRead>(input: &mut R, name: &Path) -> Result<Option<String>> {
    let mut line = Vec::new();
    let n = input
        .by_ref()
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .map_err(|e| Y4mError::io(name, e))?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        let message = if n >= MAX_LINE {
            "header line too long"
        } else {
            "stream ends inside a header line"
        };
        return Err(Y4mError::format(name, message));
    }
    line.pop();
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| Y4mError::format(name, "header line is not text"))
}

/// Writes a Y4M stream: the header at creation, then frames.
#[derive(Debug)]
pub struct Y4mWriter<W: Write> {
    out: W,
    header: Y4mHeader,
    frames: u64,
    row: Vec<u8>,
}

impl<W: Write> Y4mWriter<W> {
    /// Writes `header` to `out`.
    pub fn new(mut out: W, header: Y4mHeader) -> std::io::Result<Self> {
        out.write_all(header.to_line().as_bytes())?;
        Ok(Y4mWriter {
            out,
            header,
            frames: 0,
            row: Vec::new(),
        })
    }

    /// The header written.
    pub fn header(&self) -> &Y4mHeader {
        &self.header
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Writes one frame. Its size, sampling and bit depth must match the header.
    pub fn write_frame<T: Sample>(&mut self, frame: &FrameView<'_, T>) -> std::io::Result<()> {
        let h = &self.header;
        if frame.width() != h.width
            || frame.height() != h.height
            || frame.sampling() != h.sampling
            || frame.bit_depth() != h.bit_depth
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "frame {}x{} {:?} {}-bit does not match the stream's {}x{} {:?} {}-bit",
                    frame.width(),
                    frame.height(),
                    frame.sampling(),
                    frame.bit_depth(),
                    h.width,
                    h.height,
                    h.sampling,
                    h.bit_depth
                ),
            ));
        }
        let wide = h.bit_depth > 8;
        self.out.write_all(b"FRAME\n")?;
        for i in 0..3 {
            for r in frame.plane(i).rows() {
                self.row.clear();
                if wide {
                    self.row
                        .extend(r.iter().flat_map(|s| (s.to_u32() as u16).to_le_bytes()));
                } else {
                    self.row.extend(r.iter().map(|s| s.to_u32() as u8));
                }
                self.out.write_all(&self.row)?;
            }
        }
        self.frames += 1;
        Ok(())
    }

    /// Writes one frame given as stored bytes (as [`Y4mReader::read_frame_bytes`] returns them).
    pub fn write_frame_bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.len() != self.header.frame_bytes() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "frame of {} bytes, {} expected",
                    bytes.len(),
                    self.header.frame_bytes()
                ),
            ));
        }
        self.out.write_all(b"FRAME\n")?;
        self.out.write_all(bytes)?;
        self.frames += 1;
        Ok(())
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = Y4mHeader::parse(
            "YUV4MPEG2 W352 H288 F30000:1001 Ip A128:117 C420mpeg2 XYSCSS=420MPEG2",
        )
        .unwrap();
        assert_eq!(
            (h.width, h.height, h.bit_depth, h.sampling),
            (352, 288, 8, ChromaSampling::Cs420)
        );
        assert_eq!(h.fps, Fps::new(30000, 1001).unwrap());
        assert_eq!(h.aspect, Some((128, 117)));
        assert_eq!(h.extensions, vec!["YSCSS=420MPEG2".to_string()]);
        assert_eq!(
            h.to_line(),
            "YUV4MPEG2 W352 H288 F30000:1001 Ip A128:117 C420mpeg2 XYSCSS=420MPEG2\n"
        );
        assert_eq!(h.frame_bytes(), 352 * 288 * 3 / 2);
    }

    #[test]
    fn colourspaces() {
        let p = |c: &str| {
            Y4mHeader::parse(&format!("YUV4MPEG2 W4 H2 F25:1 C{c}"))
                .map(|h| (h.sampling, h.bit_depth))
        };
        assert_eq!(p("420p10"), Ok((ChromaSampling::Cs420, 10)));
        assert_eq!(p("422p12"), Ok((ChromaSampling::Cs422, 12)));
        assert_eq!(p("444"), Ok((ChromaSampling::Cs444, 8)));
        assert_eq!(
            p("mono").unwrap_err(),
            "colourspace `mono` (luma only) is not supported"
        );
        assert_eq!(
            p("444alpha").unwrap_err(),
            "colourspace `444alpha` is not supported"
        );
        assert_eq!(
            p("420p17").unwrap_err(),
            "colourspace `420p17` is not supported"
        );
        let d = Y4mHeader::parse("YUV4MPEG2 W4 H2 F25:1").unwrap();
        assert_eq!(
            (d.sampling, d.bit_depth, d.colourspace.as_str()),
            (ChromaSampling::Cs420, 8, "420jpeg")
        );
        assert_eq!(
            Y4mHeader::parse("YUV4MPEG2 H2 F25:1").unwrap_err(),
            "missing or zero width (W)"
        );
        assert_eq!(
            Y4mHeader::parse("RIFF W2").unwrap_err(),
            "not a Y4M stream (no YUV4MPEG2 signature)"
        );
    }

    #[test]
    fn frames_are_read_and_truncation_reported() {
        let mut data = b"YUV4MPEG2 W2 H2 F25:1 C444p10\n".to_vec();
        data.extend_from_slice(b"FRAME\n");
        for v in 0u16..12 {
            data.extend_from_slice(&(v * 100).to_le_bytes());
        }
        data.extend_from_slice(b"FRAME Ixyz\n");
        data.extend_from_slice(&[1, 2, 3]);
        let mut r = Y4mReader::new(&data[..]).unwrap();
        match r.read_frame().unwrap().unwrap() {
            Y4mFrame::U16(f) => {
                assert_eq!(f.planes[0], vec![0, 100, 200, 300]);
                assert_eq!(f.planes[2], vec![800, 900, 1000, 1100]);
                assert_eq!(f.bit_depth, 10);
            }
            other => panic!("unexpected {other:?}"),
        }
        let e = r.read_frame().unwrap_err();
        assert_eq!(
            e.to_string(),
            "<stream>: Y4M: frame 1 is truncated: 3 of 24 bytes"
        );
    }

    /// Luma alone, then whole frames into the same buffer, then luma of a frame whose chroma is
    /// cut short.
    #[test]
    fn luma_is_read_alone_and_chroma_skipped() {
        let mut data = b"YUV4MPEG2 W4 H2 F25:1 C420p10\n".to_vec();
        for k in 0u16..3 {
            data.extend_from_slice(b"FRAME\n");
            for v in 0u16..12 {
                data.extend_from_slice(&(k * 100 + v).to_le_bytes());
            }
        }
        data.extend_from_slice(b"FRAME\n");
        for v in 0u16..9 {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let mut r = Y4mReader::new(std::io::Cursor::new(&data[..])).unwrap();
        let mut f = r.blank_frame();
        assert!(r.read_luma_into(&mut f).unwrap());
        let Y4mFrame::U16(g) = &f else {
            panic!("a 10-bit frame")
        };
        assert_eq!(g.planes[0], vec![0, 1, 2, 3, 4, 5, 6, 7]);
        assert!(g.planes[1].is_empty() && g.planes[2].is_empty());
        assert!(g.view().is_err(), "a frame without chroma has no view");
        assert!(r.read_into(&mut f).unwrap());
        let Y4mFrame::U16(g) = &f else {
            panic!("a 10-bit frame")
        };
        assert_eq!(g.planes[0], vec![100, 101, 102, 103, 104, 105, 106, 107]);
        assert_eq!(
            (g.planes[1].clone(), g.planes[2].clone()),
            (vec![108, 109], vec![110, 111])
        );
        assert!(r.read_luma_into(&mut f).unwrap());
        let Y4mFrame::U16(g) = &f else {
            panic!("a 10-bit frame")
        };
        assert_eq!(g.planes[0], vec![200, 201, 202, 203, 204, 205, 206, 207]);
        assert_eq!(r.frames_read(), 3);
        let e = r.read_luma_into(&mut f).unwrap_err();
        assert_eq!(
            e.to_string(),
            "<stream>: Y4M: frame 3 is truncated: 18 of 24 bytes"
        );
    }

    #[test]
    fn clean_end_of_stream() {
        let mut data = b"YUV4MPEG2 W2 H2 F25:1 C420jpeg\nFRAME\n".to_vec();
        data.extend_from_slice(&[9, 8, 7, 6, 5, 4]);
        let frames: Vec<_> = Y4mReader::new(&data[..])
            .unwrap()
            .collect::<Result<Vec<_>>>()
            .unwrap();
        assert_eq!(frames.len(), 1);
        assert!(
            matches!(&frames[0], Y4mFrame::U8(f) if f.planes[0] == vec![9, 8, 7, 6] && f.planes[2] == vec![4])
        );
    }
}
