// cimageio.c — see include/cimageio.h.
#define _GNU_SOURCE
#include "cimageio.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

static int fail(char *message, size_t size, int code, const char *fmt, ...) {
    if (message && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(message, size, fmt, ap);
        va_end(ap);
    }
    return code;
}

static cimageio_format sniff(const unsigned char *b, size_t n) {
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (n >= 8 && memcmp(b, png_sig, 8) == 0) return CIMAGEIO_FORMAT_PNG;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return CIMAGEIO_FORMAT_JPEG;
    return CIMAGEIO_FORMAT_UNKNOWN;
}

static FILE *open_and_sniff(const char *path, cimageio_format *format, char *message, size_t size, int *code) {
    FILE *f = fopen(path, "rb");
    if (!f) { *code = fail(message, size, CIMAGEIO_ERR_IO, "cannot open: %s", strerror(errno)); return NULL; }
    unsigned char b[8];
    size_t n = fread(b, 1, sizeof b, f);
    if (ferror(f)) {
        *code = fail(message, size, CIMAGEIO_ERR_IO, "cannot read: %s", strerror(errno));
        fclose(f);
        return NULL;
    }
    *format = sniff(b, n);
    if (*format == CIMAGEIO_FORMAT_UNKNOWN) {
        *code = fail(message, size, CIMAGEIO_ERR_FORMAT, "not a PNG or JPEG file");
        fclose(f);
        return NULL;
    }
    rewind(f);
    *code = CIMAGEIO_OK;
    return f;
}

// ---------------------------------------------------------------------------------------------
// PNG

typedef struct {
    char *message;
    size_t size;
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_ctx *c = (png_ctx *)png_get_error_ptr(png);
    fail(c->message, c->size, 0, "PNG: %s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static int png_decode(FILE *f, uint32_t max_side, int header_only, uint8_t **pixels, uint32_t *width,
                      uint32_t *height, char *message, size_t size) {
    png_ctx ctx = {message, size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    if (!png) return fail(message, size, CIMAGEIO_ERR_NO_MEMORY, "PNG: out of memory");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return fail(message, size, CIMAGEIO_ERR_NO_MEMORY, "PNG: out of memory");
    }
    uint8_t *volatile out = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(out);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return CIMAGEIO_ERR_CORRUPT;  // message set by png_on_error
    }
    // Our own side limit is checked below; lift libpng's (1e6) so it does not pre-empt it.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_init_io(png, f);
    png_read_info(png, info);  // signature, IHDR and chunks up to the first IDAT; no pixel data

    png_uint_32 w = 0, h = 0;
    int depth = 0, color = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    *width = w;
    *height = h;
    if (header_only) {
        png_destroy_read_struct(&png, &info, NULL);
        return CIMAGEIO_OK;
    }
    if (w == 0 || h == 0 || w > max_side || h > max_side) {
        png_destroy_read_struct(&png, &info, NULL);
        return fail(message, size, CIMAGEIO_ERR_TOO_LARGE, "image is %ux%u, larger than the %u-pixel side limit",
                    (unsigned)w, (unsigned)h, (unsigned)max_side);
    }

    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3 || png_get_bit_depth(png, info) != 8) {
        png_destroy_read_struct(&png, &info, NULL);
        return fail(message, size, CIMAGEIO_ERR_CORRUPT, "PNG: unexpected row layout after conversion to RGB8");
    }

    out = (uint8_t *)malloc((size_t)w * h * 3);
    rows = (png_bytep *)malloc((size_t)h * sizeof(png_bytep));
    if (!out || !rows) {
        free(out);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return fail(message, size, CIMAGEIO_ERR_NO_MEMORY, "out of memory for a %ux%u image", (unsigned)w, (unsigned)h);
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = out + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);  // checks the trailing chunks' CRCs and IEND
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    *pixels = out;
    return CIMAGEIO_OK;
}

// ---------------------------------------------------------------------------------------------
// JPEG

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char *message;
    size_t size;
} jpeg_ctx;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    char buf[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buf);
    fail(c->message, c->size, 0, "JPEG: %s", buf);
    longjmp(c->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  // trace messages
    // Warnings that mean the entropy-coded data is damaged are fatal: libjpeg would go on and return
    // an image with gray or smeared blocks, which must not reach the model as if it were the photo.
    // Harmless ones (extraneous bytes before a marker, JFIF version, Adobe transform, trailing data)
    // are tolerated: many cameras write them.
    switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:          // truncated file
    case JWRN_HUFF_BAD_CODE:     // corrupt Huffman data
    case JWRN_MUST_RESYNC:       // restart marker lost
    case JWRN_HIT_MARKER:        // data segment ends early
    case JWRN_BOGUS_PROGRESSION: // inconsistent progressive scans
    case JWRN_NOT_SEQUENTIAL:    // restart markers out of order
        jpeg_on_error(cinfo);    // does not return
    default:
        cinfo->err->num_warnings++;
    }
}

// Progressive JPEGs may carry any number of scans, each a full pass over the coefficients: a small
// file can cost unbounded CPU. Real encoders write at most a few dozen scans.
enum { JPEG_MAX_SCANS = 256 };

static void jpeg_on_progress(j_common_ptr cinfo) {
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > JPEG_MAX_SCANS) {
        jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
        fail(c->message, c->size, 0, "JPEG: more than %d progressive scans", JPEG_MAX_SCANS);
        longjmp(c->jump, 1);
    }
}

static void jpeg_output_nothing(j_common_ptr cinfo) { (void)cinfo; }

static int jpeg_decode(FILE *f, uint32_t max_side, int header_only, uint8_t **pixels, uint32_t *width,
                       uint32_t *height, char *message, size_t size) {
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx err;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = jpeg_on_error;
    err.pub.emit_message = jpeg_on_message;
    err.pub.output_message = jpeg_output_nothing;
    err.message = message;
    err.size = size;
    uint8_t *volatile out = NULL;
    uint8_t *volatile row = NULL;
    if (setjmp(err.jump)) {
        free(out);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        return CIMAGEIO_ERR_CORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    struct jpeg_progress_mgr progress = {.progress_monitor = jpeg_on_progress};
    cinfo.progress = &progress;
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);  // markers up to SOS; no entropy-coded data
    uint32_t w = cinfo.image_width, h = cinfo.image_height;
    *width = w;
    *height = h;
    if (header_only) {
        jpeg_destroy_decompress(&cinfo);
        return CIMAGEIO_OK;
    }
    if (w == 0 || h == 0 || w > max_side || h > max_side) {
        jpeg_destroy_decompress(&cinfo);
        return fail(message, size, CIMAGEIO_ERR_TOO_LARGE, "image is %ux%u, larger than the %u-pixel side limit",
                    (unsigned)w, (unsigned)h, (unsigned)max_side);
    }
    int cmyk = 0, gray = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; gray = 1; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; cmyk = 1; break;
    default: cinfo.out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(&cinfo);
    int comps = cinfo.output_components;
    if (cinfo.output_width != w || cinfo.output_height != h || comps != (gray ? 1 : cmyk ? 4 : 3)) {
        jpeg_destroy_decompress(&cinfo);
        return fail(message, size, CIMAGEIO_ERR_CORRUPT, "JPEG: unexpected output layout");
    }
    out = (uint8_t *)malloc((size_t)w * h * 3);
    if (gray || cmyk) row = (uint8_t *)malloc((size_t)w * (size_t)comps);
    if (!out || ((gray || cmyk) && !row)) {
        free(out);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        return fail(message, size, CIMAGEIO_ERR_NO_MEMORY, "out of memory for a %ux%u image", (unsigned)w, (unsigned)h);
    }
    // Adobe CMYK JPEGs store inverted values (255 = no ink).
    int inverted = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < h) {
        uint8_t *dst = out + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW r = (gray || cmyk) ? (JSAMPROW)row : (JSAMPROW)dst;
        if (jpeg_read_scanlines(&cinfo, &r, 1) != 1) {
            jpeg_on_error((j_common_ptr)&cinfo);  // does not return
        }
        if (gray) {
            for (uint32_t x = 0; x < w; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x];
        } else if (cmyk) {
            for (uint32_t x = 0; x < w; x++) {
                unsigned c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                // Now 255 means "no ink": channel = (255 - ink) * (255 - black) / 255.
                dst[3 * x] = (uint8_t)((c * k + 127) / 255);
                dst[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
                dst[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    free(row);
    jpeg_destroy_decompress(&cinfo);
    *pixels = out;
    return CIMAGEIO_OK;
}

// ---------------------------------------------------------------------------------------------

int cimageio_probe(const char *path, cimageio_format *format, uint32_t *width, uint32_t *height,
                   char *message, size_t message_size) {
    int code;
    *width = *height = 0;
    FILE *f = open_and_sniff(path, format, message, message_size, &code);
    if (!f) return code;
    uint8_t *unused = NULL;
    if (*format == CIMAGEIO_FORMAT_PNG)
        code = png_decode(f, 0, 1, &unused, width, height, message, message_size);
    else
        code = jpeg_decode(f, 0, 1, &unused, width, height, message, message_size);
    fclose(f);
    return code;
}

int cimageio_decode_rgb8(const char *path, uint32_t max_side, uint8_t **pixels, uint32_t *width,
                         uint32_t *height, char *message, size_t message_size) {
    int code;
    cimageio_format format;
    *pixels = NULL;
    *width = *height = 0;
    FILE *f = open_and_sniff(path, &format, message, message_size, &code);
    if (!f) return code;
    if (format == CIMAGEIO_FORMAT_PNG)
        code = png_decode(f, max_side, 0, pixels, width, height, message, message_size);
    else
        code = jpeg_decode(f, max_side, 0, pixels, width, height, message, message_size);
    fclose(f);
    if (code != CIMAGEIO_OK) *pixels = NULL;
    return code;
}

void cimageio_free(void *pixels) { free(pixels); }

int cimageio_write_png(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                       uint32_t channels, char *message, size_t message_size) {
    if (!pixels || width == 0 || height == 0 || width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX ||
        (channels != 1 && channels != 3))
        return fail(message, message_size, CIMAGEIO_ERR_ARGUMENT, "cannot write a %ux%u PNG with %u channels",
                    (unsigned)width, (unsigned)height, (unsigned)channels);
    FILE *f = fopen(path, "wbx");
    if (!f) return fail(message, message_size, CIMAGEIO_ERR_IO, "cannot create: %s", strerror(errno));
    png_ctx ctx = {message, message_size};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return fail(message, message_size, CIMAGEIO_ERR_NO_MEMORY, "PNG: out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return CIMAGEIO_ERR_IO;  // message set by png_on_error ("Write Error", ...)
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, width, height, 8, channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)width * channels;
    for (uint32_t y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        int e = errno;
        fclose(f);
        return fail(message, message_size, CIMAGEIO_ERR_IO, "write failed: %s", strerror(e));
    }
    if (fclose(f) != 0) return fail(message, message_size, CIMAGEIO_ERR_IO, "close failed: %s", strerror(errno));
    return CIMAGEIO_OK;
}
