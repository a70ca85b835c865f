//! Plane views: how metric kernels see decoded pictures.
//!
//! A [`Plane`] borrows one plane of samples with its row stride (in samples, not bytes), so a view
//! over an FFmpeg frame honours the frame's linesize and never assumes `width * bytes_per_sample`.
//! A [`FrameView`] groups the three planes of a Y'CbCr picture with its bit depth and chroma
//! sampling. [`OwnedFrame`] holds its samples in vectors (test media, scaled copies) and lends views.

use thiserror::Error;

/// A sample type: 8-bit (`u8`) or high bit depth (`u16`, 9 to 16 bits used).
pub trait Sample: Copy + Default + Send + Sync + 'static {
    /// The sample as an integer.
    fn to_u32(self) -> u32;
    /// The sample as a float.
    fn to_f32(self) -> f32;
    /// The plane itself when the samples are 8-bit, for kernels that exist only for 8-bit.
    fn as_u8_plane<'a>(p: &Plane<'a, Self>) -> Option<Plane<'a, u8>>;
    /// The plane itself when the samples are 16-bit words (9- to 16-bit video).
    fn as_u16_plane<'a>(p: &Plane<'a, Self>) -> Option<Plane<'a, u16>>;
}

impl Sample for u8 {
    #[inline(always)]
    fn to_u32(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    fn as_u8_plane<'a>(p: &Plane<'a, u8>) -> Option<Plane<'a, u8>> {
        Some(*p)
    }
    fn as_u16_plane<'a>(_: &Plane<'a, u8>) -> Option<Plane<'a, u16>> {
        None
    }
}

impl Sample for u16 {
    #[inline(always)]
    fn to_u32(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    fn as_u8_plane<'a>(_: &Plane<'a, u16>) -> Option<Plane<'a, u8>> {
        None
    }
    fn as_u16_plane<'a>(p: &Plane<'a, u16>) -> Option<Plane<'a, u16>> {
        Some(*p)
    }
}

/// Errors building a view over borrowed samples.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The stride is shorter than a row.
    #[error("plane stride {stride} is smaller than its width {width}")]
    StrideTooSmall { width: usize, stride: usize },
    /// The buffer does not hold `height` rows of `stride` samples (the last row may be short).
    #[error("plane buffer holds {len} samples, {needed} needed for {width}x{height} with stride {stride}")]
    BufferTooSmall {
        len: usize,
        needed: usize,
        width: usize,
        height: usize,
        stride: usize,
    },
    /// Bit depth outside 8..=16, or 8 with `u16` samples / above 8 with `u8` samples.
    #[error("bit depth {0} does not match the sample type")]
    BitDepth(u8),
    /// The chroma planes do not have the size the chroma sampling implies for the luma size.
    #[error("chroma plane is {got_w}x{got_h}, {want_w}x{want_h} expected for {sampling:?} with luma {luma_w}x{luma_h}")]
    ChromaSize {
        sampling: ChromaSampling,
        luma_w: usize,
        luma_h: usize,
        want_w: usize,
        want_h: usize,
        got_w: usize,
        got_h: usize,
    },
}

/// One borrowed plane: `height` rows of `width` samples, each row `stride` samples after the last.
#[derive(Clone, Copy, Debug)]
pub struct Plane<'a, T: Sample> {
    data: &'a [T],
    width: usize,
    height: usize,
    stride: usize,
}

impl<'a, T: Sample> Plane<'a, T> {
    /// A view of `height` rows of `width` samples, `stride` samples apart, in `data`.
    pub fn new(
        data: &'a [T],
        width: usize,
        height: usize,
        stride: usize,
    ) -> Result<Self, FrameError> {
        if stride < width {
            return Err(FrameError::StrideTooSmall { width, stride });
        }
        let needed = if height == 0 {
            0
        } else {
            (height - 1) * stride + width
        };
        if data.len() < needed {
            return Err(FrameError::BufferTooSmall {
                len: data.len(),
                needed,
                width,
                height,
                stride,
            });
        }
        Ok(Self {
            data,
            width,
            height,
            stride,
        })
    }

    /// Samples per row that belong to the picture.
    #[inline]
    pub fn width(&self) -> usize {
        self.width
    }

    /// Rows.
    #[inline]
    pub fn height(&self) -> usize {
        self.height
    }

    /// Distance between the starts of two rows, in samples.
    #[inline]
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Row `y`, exactly `width` samples long.
    #[inline]
    pub fn row(&self, y: usize) -> &'a [T] {
        let start = y * self.stride;
        &self.data[start..start + self.width]
    }

    /// The rows from top to bottom.
    pub fn rows(&self) -> impl Iterator<Item = &'a [T]> + '_ {
        (0..self.height).map(move |y| self.row(y))
    }
}

/// How the chroma planes are subsampled relative to luma.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChromaSampling {
    /// Half width, half height.
    Cs420,
    /// Half width, full height.
    Cs422,
    /// Full size.
    Cs444,
}

impl ChromaSampling {
    /// Chroma plane size for a luma plane of `w`x`h` (odd sizes round up, as FFmpeg does).
    pub fn chroma_size(self, w: usize, h: usize) -> (usize, usize) {
        match self {
            ChromaSampling::Cs420 => (w.div_ceil(2), h.div_ceil(2)),
            ChromaSampling::Cs422 => (w.div_ceil(2), h),
            ChromaSampling::Cs444 => (w, h),
        }
    }
}

/// The three planes (Y, Cb, Cr) of one picture.
#[derive(Clone, Copy, Debug)]
pub struct FrameView<'a, T: Sample> {
    planes: [Plane<'a, T>; 3],
    bit_depth: u8,
    sampling: ChromaSampling,
}

impl<'a, T: Sample> FrameView<'a, T> {
    /// Groups three planes, checking the bit depth against the sample type and the chroma sizes
    /// against the sampling.
    pub fn new(
        planes: [Plane<'a, T>; 3],
        bit_depth: u8,
        sampling: ChromaSampling,
    ) -> Result<Self, FrameError> {
        let wide = std::mem::size_of::<T>() == 2;
        if !(8..=16).contains(&bit_depth) || (wide && bit_depth == 8) || (!wide && bit_depth != 8) {
            return Err(FrameError::BitDepth(bit_depth));
        }
        let (lw, lh) = (planes[0].width, planes[0].height);
        let (cw, ch) = sampling.chroma_size(lw, lh);
        for p in &planes[1..] {
            if p.width != cw || p.height != ch {
                return Err(FrameError::ChromaSize {
                    sampling,
                    luma_w: lw,
                    luma_h: lh,
                    want_w: cw,
                    want_h: ch,
                    got_w: p.width,
                    got_h: p.height,
                });
            }
        }
        Ok(Self {
            planes,
            bit_depth,
            sampling,
        })
    }

    /// Plane `i`: 0 = Y, 1 = Cb, 2 = Cr.
    #[inline]
    pub fn plane(&self, i: usize) -> &Plane<'a, T> {
        &self.planes[i]
    }

    /// The luma plane.
    #[inline]
    pub fn luma(&self) -> &Plane<'a, T> {
        &self.planes[0]
    }

    /// Luma width.
    #[inline]
    pub fn width(&self) -> usize {
        self.planes[0].width
    }

    /// Luma height.
    #[inline]
    pub fn height(&self) -> usize {
        self.planes[0].height
    }

    /// Bits per sample actually used (8, 10, 12...).
    #[inline]
    pub fn bit_depth(&self) -> u8 {
        self.bit_depth
    }

    /// Chroma subsampling.
    #[inline]
    pub fn sampling(&self) -> ChromaSampling {
        self.sampling
    }
}

/// A picture that owns its samples, tightly packed (stride = width) unless built otherwise.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedFrame<T: Sample> {
    /// Sample buffers of Y, Cb, Cr.
    pub planes: [Vec<T>; 3],
    /// Luma width.
    pub width: usize,
    /// Luma height.
    pub height: usize,
    /// Row stride of each plane, in samples.
    pub strides: [usize; 3],
    /// Bits per sample used.
    pub bit_depth: u8,
    /// Chroma subsampling.
    pub sampling: ChromaSampling,
}

impl<T: Sample> OwnedFrame<T> {
    /// A picture of zero samples, tightly packed.
    pub fn new(width: usize, height: usize, bit_depth: u8, sampling: ChromaSampling) -> Self {
        let (cw, ch) = sampling.chroma_size(width, height);
        Self {
            planes: [
                vec![T::default(); width * height],
                vec![T::default(); cw * ch],
                vec![T::default(); cw * ch],
            ],
            width,
            height,
            strides: [width, cw, cw],
            bit_depth,
            sampling,
        }
    }

    /// Width and height of plane `i`.
    pub fn plane_size(&self, i: usize) -> (usize, usize) {
        if i == 0 {
            (self.width, self.height)
        } else {
            self.sampling.chroma_size(self.width, self.height)
        }
    }

    /// A borrowed view.
    pub fn view(&self) -> Result<FrameView<'_, T>, FrameError> {
        let plane = |i: usize| {
            let (w, h) = self.plane_size(i);
            Plane::new(&self.planes[i], w, h, self.strides[i])
        };
        FrameView::new(
            [plane(0)?, plane(1)?, plane(2)?],
            self.bit_depth,
            self.sampling,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_honour_the_stride() {
        // 3x2 picture in a buffer with stride 5: padding samples must never show up in rows.
        let data = [1u8, 2, 3, 99, 99, 4, 5, 6];
        let p = Plane::new(&data, 3, 2, 5).unwrap();
        assert_eq!(p.row(0), &[1, 2, 3]);
        assert_eq!(p.row(1), &[4, 5, 6]);
        assert_eq!(p.rows().flatten().copied().sum::<u8>(), 21);
    }

    #[test]
    fn short_buffers_and_strides_are_refused() {
        let data = [0u8; 7];
        assert_eq!(
            Plane::new(&data, 3, 2, 2).unwrap_err(),
            FrameError::StrideTooSmall {
                width: 3,
                stride: 2
            }
        );
        assert!(matches!(
            Plane::new(&data, 3, 2, 5),
            Err(FrameError::BufferTooSmall { needed: 8, .. })
        ));
    }

    #[test]
    fn bit_depth_must_match_the_sample_type() {
        let f = OwnedFrame::<u16>::new(4, 4, 8, ChromaSampling::Cs420);
        assert_eq!(f.view().unwrap_err(), FrameError::BitDepth(8));
        let f = OwnedFrame::<u16>::new(4, 4, 10, ChromaSampling::Cs420);
        assert_eq!(f.view().unwrap().bit_depth(), 10);
    }

    #[test]
    fn odd_sizes_round_chroma_up() {
        assert_eq!(ChromaSampling::Cs420.chroma_size(5, 3), (3, 2));
        assert_eq!(ChromaSampling::Cs422.chroma_size(5, 3), (3, 3));
        assert_eq!(ChromaSampling::Cs444.chroma_size(5, 3), (5, 3));
    }
}
