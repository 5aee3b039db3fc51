// fuzz_image.c — libFuzzer harness for the PNG and JPEG decoders of Sources/CImageIO.
//
// Built twice by mk/hardening.mk: -DFUZZ_PNG (fuzz-png) and -DFUZZ_JPEG (fuzz-jpeg), with
// clang -fsanitize=fuzzer,address,undefined. The shim's decoders take a FILE*; the shim is
// #included so the harness can hand them an fmemopen() stream (no temporary file per input).
// Each input is probed (header only, like cimageio_probe) and decoded (like cimageio_decode_rgb8).
//
// Besides ASan/UBSan findings the harness aborts when the shim breaks its contract:
//   - an error without a message, or a message spanning more than one line;
//   - an unknown status code; success without pixels, or pixels on failure;
//   - a decoded image larger than the side limit.
#include "../../Sources/CImageIO/cimageio.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Side limit while fuzzing: small enough that a crafted header cannot make every input allocate
// hundreds of MiB, large enough to cover the "too large" path with small files.
#ifndef FUZZ_MAX_SIDE
#define FUZZ_MAX_SIDE 2048
#endif

static void check(int code, const char *message, int decoded, uint8_t *pixels, uint32_t w, uint32_t h) {
    if (code < CIMAGEIO_OK || code > CIMAGEIO_ERR_ARGUMENT) {
        fprintf(stderr, "contract: unknown status %d\n", code);
        abort();
    }
    if (code != CIMAGEIO_OK) {
        if (message[0] == 0) { fprintf(stderr, "contract: status %d without a message\n", code); abort(); }
        if (strchr(message, '\n') || strchr(message, '\r')) {
            fprintf(stderr, "contract: multi-line message: %s\n", message);
            abort();
        }
        if (decoded && pixels) { fprintf(stderr, "contract: pixels returned with status %d\n", code); abort(); }
        return;
    }
    if (decoded) {
        if (!pixels) { fprintf(stderr, "contract: success without pixels\n"); abort(); }
        if (w == 0 || h == 0 || w > FUZZ_MAX_SIDE || h > FUZZ_MAX_SIDE) {
            fprintf(stderr, "contract: decoded %ux%u beyond the %u limit\n", w, h, FUZZ_MAX_SIDE);
            abort();
        }
        // Touch every byte so ASan sees an undersized buffer.
        volatile uint8_t sink = 0;
        size_t n = (size_t)w * h * 3;
        for (size_t i = 0; i < n; i += 1) sink ^= pixels[i];
        (void)sink;
    }
}

static int run(const uint8_t *data, size_t size, int header_only) {
    // fmemopen() refuses a zero-length buffer on some libcs: hand it one byte of nothing instead.
    static const uint8_t empty[1] = {0};
    FILE *f = fmemopen((void *)(size ? data : empty), size ? size : 1, "rb");
    if (!f) { perror("fmemopen"); abort(); }
    if (!size) fgetc(f);  // at EOF
    char message[512];
    message[0] = 0;
    uint8_t *pixels = NULL;
    uint32_t w = 0, h = 0;
    int code;
#if defined(FUZZ_PNG)
    code = png_decode(f, FUZZ_MAX_SIDE, header_only, &pixels, &w, &h, message, sizeof message);
#elif defined(FUZZ_JPEG)
    code = jpeg_decode(f, FUZZ_MAX_SIDE, header_only, &pixels, &w, &h, message, sizeof message);
#else
#error "define FUZZ_PNG or FUZZ_JPEG"
#endif
    fclose(f);
    check(code, message, !header_only, pixels, w, h);
    cimageio_free(pixels);
    return code;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // The public entry points sniff the signature first; the decoders must also cope without it.
    cimageio_format fmt = sniff(data, size);
    (void)fmt;
    if (run(data, size, 1) == CIMAGEIO_OK) run(data, size, 0);
    return 0;
}
