//! Carving typed scratch out of one caller-provided workspace slice.

/// Splits the first `n` elements off `ws`. Callers check the total length up front.
#[inline]
pub(crate) fn take<'a, S>(ws: &mut &'a mut [S], n: usize) -> &'a mut [S] {
    let (head, tail) = core::mem::take(ws).split_at_mut(n);
    *ws = tail;
    head
}
