/*
 * nncc_runtime.h - the kernels that generated code calls.
 *
 * This is the whole of nncc's runtime: plain C99, no malloc, no stdio, no
 * globals. The same files are compiled into the nncc compiler (constant
 * folding, `nncc run`) and written next to every generated model.c, so there
 * is exactly one definition of each operator's numbers.
 *
 * Conventions
 *   - Tensors are dense, row-major (C order), NCHW for images.
 *   - Every kernel takes a parameter struct with all sizes known at compile
 *     time (generated code keeps them as `static const`), then raw pointers.
 *   - Shapes are written next to every pointer: x is (N,C,H,W) and so on.
 *   - Counts are `int64_t`; the generated code never has a negative count.
 *   - Kernels never allocate. Scratch memory, where a kernel needs it, is
 *     passed in and planned by the compiler.
 *
 * What it is not: a general tensor library. Anything the compiler can decide
 * (broadcast strides, padded shapes, which kernel) is decided there.
 */
#ifndef NNCC_RUNTIME_H
#define NNCC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NNCC_RT_MAX_RANK 8 /* highest tensor rank a kernel accepts */

/* ------------------------------------------------------------------------ */
/* Element types (values equal ONNX TensorProto.DataType)                    */
/* ------------------------------------------------------------------------ */
enum {
    NNCC_RT_F32 = 1, NNCC_RT_U8 = 2, NNCC_RT_I8 = 3, NNCC_RT_U16 = 4,
    NNCC_RT_I16 = 5, NNCC_RT_I32 = 6, NNCC_RT_I64 = 7, NNCC_RT_BOOL = 9,
    NNCC_RT_F64 = 11, NNCC_RT_U32 = 12, NNCC_RT_U64 = 13
};

/* ------------------------------------------------------------------------ */
/* Activations, fused into the epilogue of conv/gemm/binary kernels          */
/* ------------------------------------------------------------------------ */
typedef enum {
    NNCC_ACT_NONE = 0,
    NNCC_ACT_RELU,       /* max(x, 0) */
    NNCC_ACT_LEAKY_RELU, /* x < 0 ? alpha * x : x */
    NNCC_ACT_CLIP,       /* min(max(x, alpha), beta); Relu6 is clip(0, 6) */
    NNCC_ACT_SIGMOID,    /* 1 / (1 + exp(-x)) */
    NNCC_ACT_TANH,
    NNCC_ACT_HARD_SIGMOID, /* max(0, min(1, alpha * x + beta)) */
    NNCC_ACT_HARD_SWISH    /* x * max(0, min(1, x / 6 + 1 / 2)) */
} nncc_act;

typedef struct {
    int32_t kind;        /* nncc_act */
    float alpha, beta;   /* meaning depends on kind (see nncc_act) */
} nncc_act_params;

/* Applies an activation to y[0..n) in place. */
void nncc_act_f32(const nncc_act_params *a, int64_t n, float *y);

/* ------------------------------------------------------------------------ */
/* Convolution                                                               */
/* ------------------------------------------------------------------------ */
typedef struct {
    int64_t n, c, h, w;          /* input (N,C,H,W) */
    int64_t m, oh, ow;           /* output (N,M,OH,OW) */
    int64_t kh, kw;              /* kernel; weight is (M, C/group, KH, KW) */
    int64_t sh, sw;              /* strides */
    int64_t dh, dw;              /* dilations */
    int64_t pt, pl;              /* padding at top and left (bottom/right follow from oh/ow) */
    int64_t group;               /* C and M are multiples of group */
    nncc_act_params act;         /* fused activation, applied after bias */
} nncc_conv2d_params;

/* y(N,M,OH,OW) = act(conv(x(N,C,H,W), w(M,C/group,KH,KW)) + b(M)); b may be NULL.
 * `add`, when not NULL, has y's shape and is added before the activation
 * (a fused residual connection). */
void nncc_conv2d_f32(const nncc_conv2d_params *p, const float *x, const float *w,
                     const float *b, const float *add, float *y);

/* y(N,M,OH,OW) = act(conv_transpose(x(N,C,H,W), w(C,M/group,KH,KW)) + b(M)), with
 * the same parameters as Conv read the other way: c = input channels,
 * m = output channels, pt/pl = padding removed at top/left (nncc_rt_convt.c). */
void nncc_conv_transpose2d_f32(const nncc_conv2d_params *p, const float *x, const float *w,
                               const float *b, float *y);

/* ------------------------------------------------------------------------ */
/* Pooling                                                                   */
/* ------------------------------------------------------------------------ */
typedef enum { NNCC_POOL_MAX = 0, NNCC_POOL_AVG = 1 } nncc_pool_kind;

typedef struct {
    int32_t kind;                /* nncc_pool_kind */
    int32_t count_include_pad;   /* AVG: divide by the full window, pads included */
    int64_t n, c, h, w;          /* input (N,C,H,W) */
    int64_t oh, ow;              /* output (N,C,OH,OW) */
    int64_t kh, kw, sh, sw, dh, dw, pt, pl;
    int64_t pb, pr;              /* padding at bottom and right (window clipping for AVG) */
} nncc_pool2d_params;

/* y(N,C,OH,OW) = pool(x(N,C,H,W)) */
void nncc_pool2d_f32(const nncc_pool2d_params *p, const float *x, float *y);

/* y(N,C) = mean over H*W of x(N,C,HW) */
void nncc_global_avgpool_f32(int64_t nc, int64_t hw, const float *x, float *y);

/* ------------------------------------------------------------------------ */
/* Matrix products                                                           */
/* ------------------------------------------------------------------------ */
typedef enum {
    NNCC_BIAS_NONE = 0, NNCC_BIAS_SCALAR, NNCC_BIAS_ROW /* (N) */,
    NNCC_BIAS_COL /* (M,1) */, NNCC_BIAS_FULL /* (M,N) */
} nncc_bias_kind;

typedef struct {
    int64_t m, n, k;             /* Y is (M,N); op(A) is (M,K); op(B) is (K,N) */
    int32_t trans_a, trans_b;    /* A stored (K,M) / B stored (N,K) when set */
    float alpha, beta;           /* Y = alpha * op(A) op(B) + beta * C */
    int32_t bias;                /* nncc_bias_kind of C */
    nncc_act_params act;         /* fused activation */
} nncc_gemm_params;

void nncc_gemm_f32(const nncc_gemm_params *p, const float *a, const float *b,
                   const float *c, float *y);

typedef struct {
    int64_t batch;               /* number of (M,K)x(K,N) products */
    int64_t m, n, k;
    int64_t rank;                /* rank of the broadcast batch shape */
    int64_t dims[NNCC_RT_MAX_RANK];    /* batch shape */
    int64_t a_step[NNCC_RT_MAX_RANK];  /* elements between A matrices per batch dim (0: broadcast) */
    int64_t b_step[NNCC_RT_MAX_RANK];  /* same for B */
} nncc_matmul_params;

/* y(batch..., M, N) = a(..., M, K) x b(..., K, N) with numpy broadcasting. */
void nncc_matmul_f32(const nncc_matmul_params *p, const float *a, const float *b, float *y);

/* ------------------------------------------------------------------------ */
/* Elementwise                                                               */
/* ------------------------------------------------------------------------ */
typedef enum {
    NNCC_UN_IDENTITY = 0, NNCC_UN_RELU, NNCC_UN_LEAKY_RELU, NNCC_UN_CLIP,
    NNCC_UN_SIGMOID, NNCC_UN_TANH, NNCC_UN_SQRT, NNCC_UN_EXP, NNCC_UN_LOG,
    NNCC_UN_NEG, NNCC_UN_ABS, NNCC_UN_RECIPROCAL, NNCC_UN_FLOOR, NNCC_UN_CEIL,
    NNCC_UN_ERF, NNCC_UN_ELU, NNCC_UN_SELU, NNCC_UN_HARD_SIGMOID,
    NNCC_UN_HARD_SWISH, NNCC_UN_SOFTPLUS, NNCC_UN_SOFTSIGN, NNCC_UN_SIN,
    NNCC_UN_COS, NNCC_UN_ROUND, NNCC_UN_SIGN, NNCC_UN_GELU, NNCC_UN_MISH,
    NNCC_UN_CELU, NNCC_UN_TAN, NNCC_UN_THRESHOLDED_RELU, NNCC_UN_SHRINK,
    NNCC_UN_SWISH
} nncc_unary_op;

/* y[i] = op(x[i]) for i in [0, n); alpha/beta as in the ONNX operator. */
void nncc_unary_f32(int32_t op, float alpha, float beta, int64_t n,
                    const float *x, float *y);

typedef enum {
    NNCC_BIN_ADD = 0, NNCC_BIN_SUB, NNCC_BIN_MUL, NNCC_BIN_DIV, NNCC_BIN_POW,
    NNCC_BIN_MAX, NNCC_BIN_MIN, NNCC_BIN_MOD, NNCC_BIN_FMOD,
    NNCC_BIN_PRELU /* a < 0 ? a * b : a */
} nncc_binary_op;

/* Broadcast description shared by binary ops, Expand and Where. Each input
 * is addressed through per-dimension element strides that are 0 along the
 * dimensions it is broadcast over. */
typedef struct {
    int64_t rank;                      /* rank of the output (at least 1) */
    int64_t dims[NNCC_RT_MAX_RANK];    /* output shape */
    int64_t sa[NNCC_RT_MAX_RANK];      /* strides of input a (elements) */
    int64_t sb[NNCC_RT_MAX_RANK];      /* strides of input b */
    int64_t sc[NNCC_RT_MAX_RANK];      /* strides of input c (Where only) */
} nncc_bcast;

/* y = act(a op b), broadcast by `bc`. */
void nncc_binary_f32(int32_t op, const nncc_bcast *bc, const nncc_act_params *act,
                     const float *a, const float *b, float *y);
void nncc_binary_i64(int32_t op, const nncc_bcast *bc, const int64_t *a,
                     const int64_t *b, int64_t *y);
void nncc_binary_i32(int32_t op, const nncc_bcast *bc, const int32_t *a,
                     const int32_t *b, int32_t *y);

/* y = x broadcast to bc->dims (Expand); elements of `size` bytes. */
void nncc_broadcast_copy(const nncc_bcast *bc, size_t size, const void *x, void *y);

/* ------------------------------------------------------------------------ */
/* Normalisation                                                             */
/* ------------------------------------------------------------------------ */
/* y(N,C,HW) = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c] */
void nncc_batchnorm_f32(int64_t n, int64_t c, int64_t hw, float eps,
                        const float *scale, const float *bias, const float *mean,
                        const float *var, const float *x, float *y);

/* y(outer,len,inner) = x / norm_p(x along len); p is 1 or 2. */
void nncc_lpnorm_f32(int64_t outer, int64_t len, int64_t inner, int32_t p,
                     const float *x, float *y);

/* y(outer,len,inner) = softmax of x along len. log != 0: LogSoftmax. */
void nncc_softmax_f32(int64_t outer, int64_t len, int64_t inner, int32_t log,
                      const float *x, float *y);

/* ------------------------------------------------------------------------ */
/* Reductions                                                                */
/* ------------------------------------------------------------------------ */
typedef enum {
    NNCC_RED_SUM = 0, NNCC_RED_MEAN, NNCC_RED_MAX, NNCC_RED_MIN, NNCC_RED_PROD,
    NNCC_RED_L1, NNCC_RED_L2, NNCC_RED_SUM_SQUARE, NNCC_RED_LOG_SUM,
    NNCC_RED_LOG_SUM_EXP
} nncc_reduce_op;

typedef struct {
    int32_t op;                        /* nncc_reduce_op */
    int64_t rank;                      /* input rank (at least 1) */
    int64_t dims[NNCC_RT_MAX_RANK];    /* input shape */
    int64_t ostride[NNCC_RT_MAX_RANK]; /* output stride per input dim, 0 where reduced */
    int64_t out_count;                 /* number of output elements */
    int64_t red_count;                 /* number of inputs reduced into each output */
} nncc_reduce_params;

void nncc_reduce_f32(const nncc_reduce_params *p, const float *x, float *y);

/* ------------------------------------------------------------------------ */
/* Data movement (any element type; `size` is the element size in bytes)     */
/* ------------------------------------------------------------------------ */
typedef struct {
    int64_t rank;
    int64_t dims[NNCC_RT_MAX_RANK];    /* output shape */
    int64_t istride[NNCC_RT_MAX_RANK]; /* input stride (elements) for each output dim */
} nncc_transpose_params;

void nncc_transpose(const nncc_transpose_params *p, size_t size, const void *x, void *y);

/* Copies `rows` rows of `len` bytes from x (row pitch xstride bytes) to y (pitch ystride). */
void nncc_copy_rows(int64_t rows, size_t len, size_t xstride, size_t ystride,
                    const void *x, void *y);

/* y(outer, n, inner) = x(outer, axis_len, inner) gathered at idx[0..n) along
 * the middle axis; negative indices count from the end. Returns nonzero (and
 * leaves y unfinished) if an index is out of range. */
int nncc_gather(int64_t outer, int64_t axis_len, int64_t inner, size_t size,
                const void *x, int64_t n, const int64_t *idx, void *y);

typedef enum { NNCC_PAD_CONSTANT = 0, NNCC_PAD_REFLECT, NNCC_PAD_EDGE, NNCC_PAD_WRAP } nncc_pad_mode;

typedef struct {
    int32_t mode;                      /* nncc_pad_mode */
    int64_t rank;
    int64_t idims[NNCC_RT_MAX_RANK];   /* input shape */
    int64_t odims[NNCC_RT_MAX_RANK];   /* output shape */
    int64_t before[NNCC_RT_MAX_RANK];  /* padding before each dim (negative crops) */
} nncc_pad_params;

/* y = pad(x); `value` points to one element used by CONSTANT mode. */
void nncc_pad(const nncc_pad_params *p, size_t size, const void *value,
              const void *x, void *y);

typedef struct {
    int64_t rank;
    int64_t dims[NNCC_RT_MAX_RANK];    /* output shape */
    int64_t start[NNCC_RT_MAX_RANK];   /* first input index per dim */
    int64_t step[NNCC_RT_MAX_RANK];    /* input step per dim (may be negative) */
    int64_t istride[NNCC_RT_MAX_RANK]; /* input strides (elements) */
} nncc_slice_params;

void nncc_slice(const nncc_slice_params *p, size_t size, const void *x, void *y);

/* y[i] = (to)x[i]; types are NNCC_RT_* codes. Float to integer truncates
 * toward zero (C semantics), any nonzero value becomes true for BOOL. */
void nncc_cast(int32_t from, int32_t to, int64_t n, const void *x, void *y);

/* ------------------------------------------------------------------------ */
/* Comparisons, logic, selection (nncc_rt_logic.c)                           */
/* ------------------------------------------------------------------------ */
typedef enum { NNCC_CMP_EQ = 0, NNCC_CMP_LT, NNCC_CMP_LE, NNCC_CMP_GT, NNCC_CMP_GE } nncc_cmp_op;
typedef enum { NNCC_LOGIC_AND = 0, NNCC_LOGIC_OR, NNCC_LOGIC_XOR, NNCC_LOGIC_NOT } nncc_logic_op;

/* y = a op b (bool), inputs of NNCC_RT_* type `type`, broadcast by bc (sa, sb). */
void nncc_compare(int32_t op, int32_t type, const nncc_bcast *bc, const void *a,
                  const void *b, uint8_t *y);
/* y = a op b on bools; NOT ignores b (may be NULL). */
void nncc_logical(int32_t op, const nncc_bcast *bc, const uint8_t *a, const uint8_t *b, uint8_t *y);
/* y = cond ? x : z, broadcast by bc (sa: cond, sb: x, sc: z); elements of `size` bytes. */
void nncc_where(const nncc_bcast *bc, size_t size, const uint8_t *cond, const void *x,
                const void *z, void *y);
/* y(outer, inner) = index of the max (min != 0: min) of x(outer, len, inner)
 * along len; ties go to the first index, or the last when last != 0. */
void nncc_argmax_f32(int64_t outer, int64_t len, int64_t inner, int32_t min, int32_t last,
                     const float *x, int64_t *y);
/* y(rows, len) = (x - mean) / sqrt(var + eps) * scale(len) + bias(len), with
 * mean and variance over each row (LayerNormalization); bias may be NULL. */
void nncc_layernorm_f32(int64_t rows, int64_t len, float eps, const float *scale,
                        const float *bias, const float *x, float *y);
/* y(N,C,HW) normalised over HW per (n, c), then * scale[c] + bias[c]. */
void nncc_instancenorm_f32(int64_t n, int64_t c, int64_t hw, float eps, const float *scale,
                           const float *bias, const float *x, float *y);

/* ------------------------------------------------------------------------ */
/* int8 quantised kernels (nncc_rt_int8.c)                                    */
/*                                                                            */
/* A quantised tensor holds q with real value (q - zp) * scale. Activations:   */
/* int8, one scale and zero point per tensor. Weights: int8, symmetric (zero  */
/* point 0), one scale per output channel. Bias: int32 with scale             */
/* x_scale * w_scale[m] and zero point 0. The conv/gemm kernels accumulate    */
/* int8 x int8 products in int32 and requantise each output channel with a    */
/* fixed-point multiplier and shift (no float arithmetic at all).             */
/* ------------------------------------------------------------------------ */

/* round(acc * mult * 2^-rshift), rounding half up, in integers only:
 * mult in [2^30, 2^31) (or 0), rshift in [1, 62]. The compiler turns a real
 * multiplier r into (mult, rshift) with r ~= mult * 2^-rshift. */
static inline int32_t nncc_requant(int32_t acc, int32_t mult, int32_t rshift)
{
    int64_t p = (int64_t)acc * mult + ((int64_t)1 << (rshift - 1));
    /* arithmetic shift: the floor of the division (gcc, clang, armcc) */
    int64_t r = p >> rshift;
    return r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
}

typedef struct {
    nncc_conv2d_params c;        /* shapes (c.act unused: the clamp does it) */
    int32_t x_zp, y_zp;          /* zero points of input and output */
    int32_t y_min, y_max;        /* output clamp (int8 range, fused Relu/Relu6/Clip) */
} nncc_conv2d_i8_params;

/* y(N,M,OH,OW) = clamp(y_zp + requant(bias[m] + sum (x - x_zp) * w, mult[m], rshift[m]))
 * with x (N,C,H,W), bias, mult, rshift (M); padding reads as x_zp (real 0).
 * bias may be NULL. w holds the (M,C/group,KH,KW) weights packed tap-major
 * per group, (group, C/group*KH*KW, M/group): element [g][(c*KH + ky)*KW + kx][j]
 * is output channel g*M/group + j (the compiler packs it). */
void nncc_conv2d_i8(const nncc_conv2d_i8_params *p, const int8_t *x, const int8_t *w,
                    const int32_t *bias, const int32_t *mult, const int32_t *rshift, int8_t *y);

typedef struct {
    int64_t m, n, k;             /* y is (M,N), a is (M,K), w is (N,K) (one row per output) */
    int32_t a_zp, y_zp;          /* zero points of a and y */
    int32_t y_min, y_max;        /* output clamp */
} nncc_gemm_i8_params;

/* y(M,N) = clamp(y_zp + requant(bias[n] + sum_k (a[m,k] - a_zp) * w[n,k], mult[n], rshift[n])) */
void nncc_gemm_i8(const nncc_gemm_i8_params *p, const int8_t *a, const int8_t *w,
                  const int32_t *bias, const int32_t *mult, const int32_t *rshift, int8_t *y);

typedef struct {
    int64_t n;                   /* elements of a, b and y (same shape, no broadcast) */
    int32_t a_zp, b_zp, y_zp;    /* zero points */
    int32_t a_mult, a_rshift;    /* a's multiplier: s_a / (2 max(s_a, s_b)) */
    int32_t b_mult, b_rshift;    /* b's: s_b / (2 max(s_a, s_b)) */
    int32_t y_mult, y_rshift;    /* the sum's: 2 max(s_a, s_b) / (2^20 s_y) */
    int32_t y_min, y_max;        /* output clamp (fused Relu/Clip) */
} nncc_add_i8_params;

/* y = clamp(y_zp + requant(requant((a - a_zp) 2^20, a_mult) + requant((b - b_zp) 2^20, b_mult), y_mult)):
 * Add of two int8 tensors with their own scales (TFLite's scheme: both
 * rescaled to a common scale with 20 bits of headroom, summed, requantised). */
void nncc_add_i8(const nncc_add_i8_params *p, const int8_t *a, const int8_t *b, int8_t *y);

/* y(N,C,OH,OW) = max pooling of int8 x(N,C,H,W) (p->kind is ignored); the
 * scale and zero point pass through unchanged. */
void nncc_maxpool2d_i8(const nncc_pool2d_params *p, const int8_t *x, int8_t *y);

/* QuantizeLinear: y = saturate(rint(x / scale[j]) + zp[j]) with x (outer,len,inner)
 * and j the index along len (len 1: per tensor); `type` is NNCC_RT_I8 or NNCC_RT_U8. */
void nncc_quantize_f32(int32_t type, int64_t outer, int64_t len, int64_t inner,
                       const float *scale, const int32_t *zp, const float *x, void *y);
/* DequantizeLinear: y = (x - zp[j]) * scale[j]; `type` is NNCC_RT_I8, U8 or I32. */
void nncc_dequantize_f32(int32_t type, int64_t outer, int64_t len, int64_t inner,
                         const float *scale, const int32_t *zp, const void *x, float *y);

#ifdef __cplusplus
}
#endif
#endif /* NNCC_RUNTIME_H */
