// cimageio.h — a small C shim over system libpng and libjpeg for sam2r.
//
// libpng and libjpeg report errors by longjmp; every function here catches them and returns a
// status code plus a one-line message instead. Decoders read the header first and refuse images
// whose width or height exceeds `max_side` before any pixel memory is allocated or decoded.
//
// Decoded output is always 8-bit RGB, row-major, no padding:
//   PNG  gray/gray+alpha/RGB/RGBA/palette, 1–16 bits: palette expanded, 16-bit reduced to the high
//        byte, alpha (and tRNS) ignored, gray replicated to R=G=B. Gamma/ICC are not applied.
//   JPEG gray (replicated), YCbCr/RGB (libjpeg's conversion), CMYK/YCCK (naive conversion,
//        Adobe-inverted data handled). EXIF orientation is not applied (like PIL's Image.open).
// A truncated JPEG (libjpeg's "premature end of data" warning) is an error, not a gray-filled image.
#ifndef CIMAGEIO_H
#define CIMAGEIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Default limit on an image side, in pixels (16384² × 3 bytes = 768 MiB of RGB8).
#define CIMAGEIO_MAX_SIDE 16384

typedef enum {
    CIMAGEIO_OK = 0,
    CIMAGEIO_ERR_IO = 1,           // open/read/write failed (errno text in the message)
    CIMAGEIO_ERR_FORMAT = 2,       // neither PNG nor JPEG
    CIMAGEIO_ERR_CORRUPT = 3,      // the decoder rejected the data (truncated, bad CRC, bad marker, ...)
    CIMAGEIO_ERR_TOO_LARGE = 4,    // a side exceeds max_side (or is zero)
    CIMAGEIO_ERR_NO_MEMORY = 5,
    CIMAGEIO_ERR_ARGUMENT = 6,     // invalid arguments to a write
} cimageio_status;

typedef enum { CIMAGEIO_FORMAT_UNKNOWN = 0, CIMAGEIO_FORMAT_PNG = 1, CIMAGEIO_FORMAT_JPEG = 2 } cimageio_format;

/// Reads only the header: format, width, height.
int cimageio_probe(const char *path, cimageio_format *format, uint32_t *width, uint32_t *height,
                   char *message, size_t message_size);

/// Decodes a PNG or JPEG file into a malloc'ed RGB8 buffer (*pixels, width*height*3 bytes; free
/// with cimageio_free). On error *pixels is NULL and `message` holds one line.
int cimageio_decode_rgb8(const char *path, uint32_t max_side, uint8_t **pixels, uint32_t *width,
                         uint32_t *height, char *message, size_t message_size);

void cimageio_free(void *pixels);

/// Writes an 8-bit PNG (channels 1 = gray, 3 = RGB) to `path`, which must not exist (it is
/// created exclusively); the data is flushed and fsync'ed. On error the partial file remains for
/// the caller to remove.
int cimageio_write_png(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                       uint32_t channels, char *message, size_t message_size);

#ifdef __cplusplus
}
#endif
#endif
