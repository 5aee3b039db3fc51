/* sam2r_kernels.h — umbrella header of the C kernel target (module SAM2RKernels). */
#ifndef SAM2R_KERNELS_H
#define SAM2R_KERNELS_H
#include "sam2r_isa.h"
#include "sam2r_pool.h"
#include "sam2r_requant.h"
#include "sam2r_gemm_s8.h"
#include "sam2r_gemm_f32.h"
#include "sam2r_f16.h"
#include "sam2r_gemm_f16w.h"
#include "sam2r_rowops.h"
#include "sam2r_rowops_par.h"
#include "sam2r_softmax_short.h"
#include "sam2r_decoder_i2t.h"
#include "sam2r_peak.h"
#include "sam2r_attention.h"
#include "sam2r_attention_s8.h"
#include "sam2r_conv.h"
#include "sam2r_resize.h"
#include "sam2r_decoder_tail.h"
#endif
