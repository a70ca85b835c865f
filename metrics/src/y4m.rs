//! Reading YUV4MPEG2 (`.y4m`) streams into [`OwnedFrame`]s: the raw format rdbench's sources and
//! decoded test media come in.
//!
//! Supported colour spaces: `420jpeg`, `420paldv`, `420mpeg2`, `420`, `422`, `444` (8-bit) and
//! `420pN`, `422pN`, `444pN` for N in 9..=16 (little-endian 16-bit samples). A missing `C` field
//! means `420jpeg`, as in the format's definition.

use crate::frame::{ChromaSampling, OwnedFrame};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use thiserror::Error;

/// Longest header line accepted, in bytes.
const MAX_LINE: usize = 4096;

/// Why a Y4M stream cannot be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Y4mError {
    /// The file cannot be opened or read.
    #[error("{file}: {err}")]
    Io {
        /// The file (or stream name).
        file: String,
        /// The underlying error.
        #[source]
        err: std::io::Error,
    },
    /// The stream does not start with `YUV4MPEG2 `.
    #[error("{file}: not a YUV4MPEG2 stream (header starts with {start:?})")]
    NotY4m {
        /// The file.
        file: String,
        /// The first bytes of the header line.
        start: String,
    },
    /// A header field has a value that cannot be parsed.
    #[error("{file}: header field {field} has invalid value {value:?}")]
    BadField {
        /// The file.
        file: String,
        /// The field letter (`W`, `H`, `F`, ...).
        field: char,
        /// The value found.
        value: String,
    },
    /// A required header field (`W` or `H`) is missing.
    #[error("{file}: header has no {field} field")]
    MissingField {
        /// The file.
        file: String,
        /// The field letter.
        field: char,
    },
    /// The colour space is not one rdbench reads.
    #[error("{file}: colour space C{value} is not supported (420*, 422, 444, optionally pN)")]
    UnsupportedColorspace {
        /// The file.
        file: String,
        /// The `C` field value.
        value: String,
    },
    /// A frame does not start with `FRAME`.
    #[error("{file}: frame {frame} does not start with FRAME (found {found:?})")]
    BadFrameHeader {
        /// The file.
        file: String,
        /// Zero-based frame index.
        frame: usize,
        /// The bytes found instead.
        found: String,
    },
    /// The stream ends inside a frame.
    #[error("{file}: frame {frame} is truncated: {got} of {expected} bytes")]
    Truncated {
        /// The file.
        file: String,
        /// Zero-based frame index.
        frame: usize,
        /// Bytes a frame holds.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
}

/// The stream parameters from a Y4M header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Y4mHeader {
    /// Luma width.
    pub width: usize,
    /// Luma height.
    pub height: usize,
    /// Frame rate as numerator/denominator, if given.
    pub frame_rate: Option<(u32, u32)>,
    /// Bits per sample.
    pub bit_depth: u8,
    /// Chroma subsampling.
    pub sampling: ChromaSampling,
    /// The `C` field as written (`420jpeg` when absent).
    pub colorspace: String,
}

impl Y4mHeader {
    /// Bytes of sample data in one frame.
    pub fn frame_bytes(&self) -> usize {
        let (cw, ch) = self.sampling.chroma_size(self.width, self.height);
        let bytes = if self.bit_depth > 8 { 2 } else { 1 };
        (self.width * self.height + 2 * cw * ch) * bytes
    }
}

/// One decoded frame: 8-bit or high bit depth samples.
#[derive(Clone, Debug, PartialEq)]
pub enum Y4mFrame {
    /// 8-bit samples.
    U8(OwnedFrame<u8>),
    /// 9- to 16-bit samples.
    U16(OwnedFrame<u16>),
}

/// Reads frames one after another from a Y4M stream.
pub struct Y4mReader<R> {
    input: R,
    file: String,
    header: Y4mHeader,
    frame: usize,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Y4mReader<BufReader<File>> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Y4mReader")
            .field("file", &self.file)
            .field("header", &self.header)
            .finish()
    }
}

impl Y4mReader<BufReader<File>> {
    /// Opens a file and reads its header.
    pub fn open(path: &Path) -> Result<Self, Y4mError> {
        let file = path.display().to_string();
        let f = File::open(path).map_err(|err| Y4mError::Io {
            file: file.clone(),
            err,
        })?;
        Self::new(BufReader::with_capacity(1 << 20, f), file)
    }
}

impl<R: BufRead> Y4mReader<R> {
    /// Reads the header from `input`; `file` names the stream in errors.
    pub fn new(mut input: R, file: impl Into<String>) -> Result<Self, Y4mError> {
        let file = file.into();
        let line = read_line(&mut input, &file)?;
        let header = parse_header(&line, &file)?;
        Ok(Self {
            input,
            file,
            header,
            frame: 0,
            buf: Vec::new(),
        })
    }

    /// The stream parameters.
    pub fn header(&self) -> &Y4mHeader {
        &self.header
    }

    /// Reads the next frame; `Ok(None)` at a clean end of stream.
    pub fn read_frame(&mut self) -> Result<Option<Y4mFrame>, Y4mError> {
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
    /// replaced); `Ok(false)` at a clean end of stream.
    pub fn read_into(&mut self, frame: &mut Y4mFrame) -> Result<bool, Y4mError> {
        let at_end = match self.input.fill_buf() {
            Ok(b) => b.is_empty(),
            Err(err) => return Err(self.io(err)),
        };
        if at_end {
            return Ok(false);
        }
        let line = read_line(&mut self.input, &self.file)?;
        if !line.starts_with(b"FRAME") {
            return Err(Y4mError::BadFrameHeader {
                file: self.file.clone(),
                frame: self.frame,
                found: String::from_utf8_lossy(&line[..line.len().min(16)]).into_owned(),
            });
        }
        let expected = self.header.frame_bytes();
        self.buf.resize(expected, 0);
        let mut got = 0;
        while got < expected {
            match self.input.read(&mut self.buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(self.io(err)),
            }
        }
        if got < expected {
            return Err(Y4mError::Truncated {
                file: self.file.clone(),
                frame: self.frame,
                expected,
                got,
            });
        }
        self.frame += 1;
        let h = &self.header;
        let fits = match frame {
            Y4mFrame::U8(f) => h.bit_depth == 8 && same_format(f, h),
            Y4mFrame::U16(f) => h.bit_depth > 8 && f.bit_depth == h.bit_depth && same_format(f, h),
        };
        if !fits {
            *frame = self.blank_frame();
        }
        let mut at = 0;
        match frame {
            Y4mFrame::U8(f) => {
                for p in &mut f.planes {
                    let n = p.len();
                    p.copy_from_slice(&self.buf[at..at + n]);
                    at += n;
                }
            }
            Y4mFrame::U16(f) => {
                for p in &mut f.planes {
                    let n = p.len();
                    for (v, b) in p.iter_mut().zip(self.buf[at..at + 2 * n].chunks_exact(2)) {
                        *v = u16::from_le_bytes([b[0], b[1]]);
                    }
                    at += 2 * n;
                }
            }
        }
        Ok(true)
    }

    fn io(&self, err: std::io::Error) -> Y4mError {
        Y4mError::Io {
            file: self.file.clone(),
            err,
        }
    }
}

impl<R: BufRead> Iterator for Y4mReader<R> {
    type Item = Result<Y4mFrame, Y4mError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_frame().transpose()
    }
}

/// Whether `f` is a tightly packed frame of the header's size and sampling.
fn same_format<T: crate::frame::Sample>(f: &OwnedFrame<T>, h: &Y4mHeader) -> bool {
    let (cw, _) = h.sampling.chroma_size(h.width, h.height);
    f.width == h.width
        && f.height == h.height
        && f.sampling == h.sampling
        && f.strides == [h.width, cw, cw]
}

/// Reads one `\n`-terminated line (without the newline).
fn read_line<R: BufRead>(input: &mut R, file: &str) -> Result<Vec<u8>, Y4mError> {
    let mut line = Vec::new();
    input
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .map_err(|err| Y4mError::Io {
            file: file.to_string(),
            err,
        })?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(line)
}

/// Parses the stream header line.
pub fn parse_header(line: &[u8], file: &str) -> Result<Y4mHeader, Y4mError> {
    let text = String::from_utf8_lossy(line);
    let mut tokens = text.split(' ').filter(|t| !t.is_empty());
    if tokens.next() != Some("YUV4MPEG2") {
        return Err(Y4mError::NotY4m {
            file: file.to_string(),
            start: text.chars().take(12).collect(),
        });
    }
    let bad = |field: char, value: &str| Y4mError::BadField {
        file: file.to_string(),
        field,
        value: value.to_string(),
    };
    let (mut width, mut height, mut frame_rate) = (None, None, None);
    let mut colorspace = "420jpeg".to_string();
    for t in tokens {
        // The tag is the token's first character, which need not be one byte in a damaged header.
        let mut chars = t.chars();
        let field = chars.next().unwrap_or(' ');
        let value = chars.as_str();
        match field {
            'W' => width = Some(value.parse::<usize>().map_err(|_| bad('W', value))?),
            'H' => height = Some(value.parse::<usize>().map_err(|_| bad('H', value))?),
            'F' => {
                let (n, d) = value.split_once(':').ok_or_else(|| bad('F', value))?;
                let n = n.parse().map_err(|_| bad('F', value))?;
                let d = d.parse().map_err(|_| bad('F', value))?;
                frame_rate = Some((n, d));
            }
            'C' => colorspace = value.to_string(),
            _ => {}
        }
    }
    let width = width.ok_or(Y4mError::MissingField {
        file: file.to_string(),
        field: 'W',
    })?;
    let height = height.ok_or(Y4mError::MissingField {
        file: file.to_string(),
        field: 'H',
    })?;
    if width == 0 {
        return Err(bad('W', "0"));
    }
    if height == 0 {
        return Err(bad('H', "0"));
    }
    let (sampling, bit_depth) =
        parse_colorspace(&colorspace).ok_or_else(|| Y4mError::UnsupportedColorspace {
            file: file.to_string(),
            value: colorspace.clone(),
        })?;
    Ok(Y4mHeader {
        width,
        height,
        frame_rate,
        bit_depth,
        sampling,
        colorspace,
    })
}

/// Sampling and bit depth of a `C` field value.
fn parse_colorspace(c: &str) -> Option<(ChromaSampling, u8)> {
    match c {
        "420jpeg" | "420paldv" | "420mpeg2" | "420" => return Some((ChromaSampling::Cs420, 8)),
        "422" => return Some((ChromaSampling::Cs422, 8)),
        "444" => return Some((ChromaSampling::Cs444, 8)),
        _ => {}
    }
    let (s, depth) = c.split_once('p')?;
    let sampling = match s {
        "420" => ChromaSampling::Cs420,
        "422" => ChromaSampling::Cs422,
        "444" => ChromaSampling::Cs444,
        _ => return None,
    };
    let depth: u8 = depth.parse().ok()?;
    (9..=16).contains(&depth).then_some((sampling, depth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_are_parsed() {
        let h = parse_header(
            b"YUV4MPEG2 W352 H288 F30000:1001 Ip A1:1 C420p10 XYSCSS=420P10",
            "t",
        )
        .unwrap();
        assert_eq!(
            h,
            Y4mHeader {
                width: 352,
                height: 288,
                frame_rate: Some((30000, 1001)),
                bit_depth: 10,
                sampling: ChromaSampling::Cs420,
                colorspace: "420p10".into()
            }
        );
        assert_eq!(h.frame_bytes(), (352 * 288 + 2 * 176 * 144) * 2);
        let h = parse_header(b"YUV4MPEG2 W3 H3", "t").unwrap();
        assert_eq!(
            (h.sampling, h.bit_depth, h.frame_bytes()),
            (ChromaSampling::Cs420, 8, 9 + 2 * 4)
        );
    }

    #[test]
    fn bad_headers_name_the_field() {
        let e = parse_header(b"YUV4MPEG2 W35x H288", "clip.y4m").unwrap_err();
        assert_eq!(
            e.to_string(),
            "clip.y4m: header field W has invalid value \"35x\""
        );
        let e = parse_header(b"YUV4MPEG2 W352 H288 Cmono", "clip.y4m").unwrap_err();
        assert!(matches!(e, Y4mError::UnsupportedColorspace { ref value, .. } if value == "mono"));
        let e = parse_header(b"YUV4MPEG2 W352", "clip.y4m").unwrap_err();
        assert!(matches!(e, Y4mError::MissingField { field: 'H', .. }));
        assert!(matches!(
            parse_header(b"RIFF", "x").unwrap_err(),
            Y4mError::NotY4m { .. }
        ));
    }

    #[test]
    fn frames_are_read_and_truncation_reported() {
        let mut data = b"YUV4MPEG2 W2 H2 C444p10\n".to_vec();
        data.extend_from_slice(b"FRAME\n");
        for v in 0u16..12 {
            data.extend_from_slice(&(v * 100).to_le_bytes());
        }
        data.extend_from_slice(b"FRAME Ixyz\n");
        data.extend_from_slice(&[1, 2, 3]);
        let mut r = Y4mReader::new(&data[..], "mem").unwrap();
        match r.read_frame().unwrap().unwrap() {
            Y4mFrame::U16(f) => {
                assert_eq!(f.planes[0], vec![0, 100, 200, 300]);
                assert_eq!(f.planes[2], vec![800, 900, 1000, 1100]);
                assert_eq!(f.bit_depth, 10);
            }
            other => panic!("unexpected {other:?}"),
        }
        let e = r.read_frame().unwrap_err();
        assert!(matches!(
            e,
            Y4mError::Truncated {
                frame: 1,
                expected: 24,
                got: 3,
                ..
            }
        ));
    }

    #[test]
    fn clean_end_of_stream() {
        let mut data = b"YUV4MPEG2 W2 H2 C420jpeg\nFRAME\n".to_vec();
        data.extend_from_slice(&[9, 8, 7, 6, 5, 4]);
        let frames: Vec<_> = Y4mReader::new(&data[..], "mem")
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(frames.len(), 1);
        assert!(
            matches!(&frames[0], Y4mFrame::U8(f) if f.planes[0] == vec![9, 8, 7, 6] && f.planes[2] == vec![4])
        );
    }
}
