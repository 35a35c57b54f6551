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

#include <math.h>
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
    NNCC_RT_F16 = 10, NNCC_RT_F64 = 11, NNCC_RT_U32 = 12, NNCC_RT_U64 = 13
};

/* The typed kernels (nncc_unary, nncc_binary, nncc_reduce, nncc_argmax,
 * nncc_compare) are written once as a macro and instantiated for each type
 * of these lists; the `type` argument picks the instance at run time.
 *   NNCC_RT_FLOAT_TYPES: X(code, C type, name, libm suffix)
 *   NNCC_RT_INT_TYPES:   X(code, C type, name, signed, lowest, highest)
 * float16 is in neither: it is stored as its uint16_t bits, moved by the
 * data kernels and converted by nncc_cast (round to nearest even);
 * nncc_unary, nncc_binary, nncc_compare and nncc_isinf also take it, and
 * compute each element in float32 before rounding back. */
#define NNCC_RT_FLOAT_TYPES(X)                                                  \
    X(NNCC_RT_F32, float, f32, f)                                               \
    X(NNCC_RT_F64, double, f64, )
#define NNCC_RT_INT_TYPES(X)                                                    \
    X(NNCC_RT_I8, int8_t, i8, 1, INT8_MIN, INT8_MAX)                            \
    X(NNCC_RT_U8, uint8_t, u8, 0, 0, UINT8_MAX)                                 \
    X(NNCC_RT_I16, int16_t, i16, 1, INT16_MIN, INT16_MAX)                       \
    X(NNCC_RT_U16, uint16_t, u16, 0, 0, UINT16_MAX)                             \
    X(NNCC_RT_I32, int32_t, i32, 1, INT32_MIN, INT32_MAX)                       \
    X(NNCC_RT_U32, uint32_t, u32, 0, 0, UINT32_MAX)                             \
    X(NNCC_RT_I64, int64_t, i64, 1, INT64_MIN, INT64_MAX)                       \
    X(NNCC_RT_U64, uint64_t, u64, 0, 0, UINT64_MAX)                             \
    X(NNCC_RT_BOOL, uint8_t, b8, 0, 0, 1)

/* float16 bits <-> double, rounding to nearest even (overflow gives inf). */
double nncc_f16_to_f64(uint16_t h);
uint16_t nncc_f64_to_f16(double v);

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
/* Work sharing among a kernel's OpenMP threads                              */
/* ------------------------------------------------------------------------ */
/* Units [0, units) in one contiguous run per thread, as a static schedule
 * splits them. Inside the team's parallel region thread `me` calls
 * nncc_par_take(s, me, &run) (run starting at 0: which run it is taking
 * from, counted from its own) until it returns -1: its own
 * run's units first, in order (the static schedule's cache locality, one
 * uncontended atomic add per unit), then whatever is left of the other
 * runs. So a thread that the machine holds back (another program on its
 * core, a slower core) does not hold up the layer: the others take its
 * units. Initialise before the region (nncc_par_next_round inside it).
 * Inline, so that each kernel file gets the version its own flags
 * (-fopenmp or not) call for. */
#ifdef _OPENMP
#include <omp.h>
#define NNCC_PAR_MAX 64 /* runs; threads past the 64th only take others' units */
#else
#define NNCC_PAR_MAX 1 /* one thread: 72 bytes of stack, not 4 KB (firmware stacks are small) */
#endif
typedef struct {
    int64_t next, end;
    int64_t pad[6]; /* a cache line per run */
} nncc_par_run;
typedef struct {
    nncc_par_run run[NNCC_PAR_MAX];
    int64_t nt;
} nncc_par;

static inline void nncc_par_init(nncc_par *s, int64_t nt, int64_t units)
{
    nt = nt < 1 ? 1 : nt > NNCC_PAR_MAX ? NNCC_PAR_MAX : nt;
    s->nt = nt;
    for (int64_t t = 0; t < nt; t++) {
        s->run[t].next = t * units / nt;
        s->run[t].end = (t + 1) * units / nt;
    }
}

static inline int64_t nncc_par_take(nncc_par *s, int64_t me, int64_t *run)
{
    for (; *run < s->nt; ++*run) {
        nncc_par_run *r = &s->run[(me + *run) % s->nt];
        int64_t u;
#ifdef _OPENMP
#pragma omp atomic read
#endif
        u = r->next;
        if (u >= r->end) /* done: no write to another thread's line */
            continue;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
        u = r->next++;
        if (u < r->end)
            return u;
    }
    return -1;
}

/* Inside the region, between two rounds of units (the next image or
 * group): every thread finishes the last round, then one starts the next */
static inline void nncc_par_next_round(nncc_par *s, int64_t nt, int64_t units)
{
#ifdef _OPENMP
#pragma omp barrier
#pragma omp single
#endif
    nncc_par_init(s, nt, units);
}

/* this thread's number in its team (0 without OpenMP) */
static inline int64_t nncc_par_me(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

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
    int64_t threads;             /* nncc_conv2d_gemm_f32: OpenMP threads when built with
                                    OpenMP (0 or 1: one); scratch holds one block per thread */
} nncc_conv2d_params;

/* y(N,M,OH,OW) = act(conv(x(N,C,H,W), w(M,C/group,KH,KW)) + b(M)); b may be NULL.
 * `add`, when not NULL, has y's shape and is added before the activation
 * (a fused residual connection). */
void nncc_conv2d_f32(const nncc_conv2d_params *p, const float *x, const float *w,
                     const float *b, const float *add, float *y);

/* The fast convolution (nncc_rt_sgemm.c): the same result as nncc_conv2d_f32
 * through a packed GEMM. The weight is packed once, at compile time, by
 * nncc_conv2d_pack_f32 into wp (nncc_conv2d_packed_size(p) floats: per group,
 * panels of NNCC_GEMM_MR output channels stored k-major, K = C/group*KH*KW).
 * `scratch` holds nncc_conv2d_scratch_size(p) floats the kernel may overwrite
 * (nncc plans it in the arena). */
#define NNCC_GEMM_MR 6    /* micro-kernel tile: rows (output channels) */
#define NNCC_GEMM_NR 16   /* micro-kernel tile: columns (output pixels) */
#define NNCC_GEMM_KC 256  /* depth of one packed block of the input */
#define NNCC_GEMM_NC 128  /* columns of one packed block of the input */
int64_t nncc_conv2d_packed_size(const nncc_conv2d_params *p);
void nncc_conv2d_pack_f32(const nncc_conv2d_params *p, const float *w, float *wp);
int64_t nncc_conv2d_scratch_size(const nncc_conv2d_params *p);
void nncc_conv2d_gemm_f32(const nncc_conv2d_params *p, const float *x, const float *wp,
                          const float *b, const float *add, float *y, float *scratch);

/* Convolution as an implicit GEMM (nncc_rt_sgemm.c): the same result and
 * packed weight as nncc_conv2d_gemm_f32, with the micro-kernel reading a
 * zero-padded copy of the input (split into the stride's phases) in place
 * instead of an im2col copy. Needs the copy's size below 2^31 elements;
 * `scratch` holds nncc_conv2d_implicit_scratch_size(p) floats. */
int64_t nncc_conv2d_implicit_scratch_size(const nncc_conv2d_params *p);
void nncc_conv2d_implicit_f32(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                              const float *add, float *y, float *scratch);

/* The implicit GEMM transposed, for small maps (nncc_rt_sgemm.c): output
 * pixels are the rows of the register tile and output channels its vector
 * lanes, so a 7x7 map wastes no lane. The weight is packed by nncc at
 * compile time in panels of NNCC_GEMM_TC output channels
 * (nncc_conv2d_implicit_t_pack_f32, nncc_conv2d_implicit_t_packed_size
 * floats); the input is read as by nncc_conv2d_implicit_f32, and `scratch`
 * holds nncc_conv2d_implicit_t_scratch_size(p) floats. */
#define NNCC_GEMM_TC 32 /* output channels per panel of the transposed kernel */
int64_t nncc_conv2d_implicit_t_packed_size(const nncc_conv2d_params *p);
void nncc_conv2d_implicit_t_pack_f32(const nncc_conv2d_params *p, const float *w, float *wp);
int64_t nncc_conv2d_implicit_t_scratch_size(const nncc_conv2d_params *p);
void nncc_conv2d_implicit_t_f32(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                                const float *add, float *y, float *scratch);

/* 3x3 stride-1 convolution without dilation or groups by Winograd
 * F(2x2, 3x3) (nncc_rt_sgemm.c): the same result as nncc_conv2d_f32 within
 * float rounding. The weight is transformed and packed by nncc at compile
 * time (nncc_conv2d_winograd_pack_f32, nncc_conv2d_winograd_packed_size
 * floats); `scratch` holds nncc_conv2d_winograd_scratch_size(p) floats. */
int64_t nncc_conv2d_winograd_packed_size(const nncc_conv2d_params *p);
void nncc_conv2d_winograd_pack_f32(const nncc_conv2d_params *p, const float *w, float *wp);
int64_t nncc_conv2d_winograd_scratch_size(const nncc_conv2d_params *p);
void nncc_conv2d_winograd_f32(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                              const float *add, float *y, float *scratch);
/* The same by F(4x4, 3x3): 36 products, a quarter of the direct
 * convolution's multiply-adds (nncc_rt_sgemm.c) */
int64_t nncc_conv2d_winograd4_packed_size(const nncc_conv2d_params *p);
void nncc_conv2d_winograd4_pack_f32(const nncc_conv2d_params *p, const float *w, float *wp);
int64_t nncc_conv2d_winograd4_scratch_size(const nncc_conv2d_params *p);
void nncc_conv2d_winograd4_f32(const nncc_conv2d_params *p, const float *x, const float *wp, const float *b,
                               const float *add, float *y, float *scratch);

/* Depthwise convolution (group == C, M a multiple of C), the same result as
 * nncc_conv2d_f32 with the plain weight, vectorised along output rows
 * (nncc_rt_window.c), with OpenMP over the input channels when p->threads > 1;
 * `scratch` holds nncc_conv2d_depthwise_scratch_size(p) floats (one padded
 * input plane per thread, used by the AVX2 and portable paths only). */
int64_t nncc_conv2d_depthwise_scratch_size(const nncc_conv2d_params *p);
void nncc_conv2d_depthwise_f32(const nncc_conv2d_params *p, const float *x, const float *w, const float *b,
                               const float *add, float *y, float *scratch);

/* y(N,M,OH,OW) = act(conv_transpose(x(N,C,H,W), w(C,M/group,KH,KW)) + b(M)), with
 * the same parameters as Conv read the other way: c = input channels,
 * m = output channels, pt/pl = padding removed at top/left (nncc_rt_convt.c). */
void nncc_conv_transpose2d_f32(const nncc_conv2d_params *p, const float *x, const float *w,
                               const float *b, float *y);

/* y(B,C,L) = silu?(bias[c] + sum_i w(C,1,K)[c,i] * p[t + i]) over the
 * sequence p = past(B,C,K-1) (zeros when NULL) then x(B,C,L), and
 * present(B,C,K-1) = the last K-1 of p (CausalConvWithState). */
void nncc_causal_conv_f32(int64_t b, int64_t c, int64_t l, int64_t k, int32_t silu, const float *x,
                          const float *w, const float *bias, const float *past, float *y, float *present);

/* ------------------------------------------------------------------------ */
/* Pooling                                                                   */
/* ------------------------------------------------------------------------ */
typedef enum { NNCC_POOL_MAX = 0, NNCC_POOL_AVG = 1, NNCC_POOL_LP = 2 /* (sum |x|^p)^(1/p) */ } nncc_pool_kind;

typedef struct {
    int32_t kind;                /* nncc_pool_kind */
    int32_t count_include_pad;   /* AVG: divide by the full window, pads included */
    int64_t n, c, h, w;          /* input (N,C,H,W) */
    int64_t oh, ow;              /* output (N,C,OH,OW) */
    int64_t kh, kw, sh, sw, dh, dw, pt, pl;
    int64_t pb, pr;              /* padding at bottom and right (window clipping for AVG) */
    int64_t p;                   /* LP: the norm's order */
    /* 3-D pooling: the depth dim before H (1, and pads 0, for 1-D and 2-D;
     * 0 in a struct written before they existed also means 1) */
    int64_t d, od, kd, sd, dd;   /* input and output depth, kernel, stride, dilation */
    int64_t pf, pk;              /* padding at front and back */
    int32_t col_major;           /* MAX indices: w * H + h rather than h * W + w (2-D) */
    int64_t threads;             /* nncc_pool2d_fast_f32: OpenMP threads over the (n, c) planes
                                    when built with OpenMP (0 or 1: one) */
} nncc_pool2d_params;

/* y(N,C,OD,OH,OW) = pool(x(N,C,D,H,W)); D = OD = 1 for 2-D */
/* MAX: idx, when not NULL, receives the flat (row-major) input index of each maximum. */
void nncc_pool2d_f32(const nncc_pool2d_params *p, const float *x, float *y, int64_t *idx);

/* The same as nncc_pool2d_f32 without indices, vectorised (nncc_rt_window.c)
 * for 2-D MAX and AVG without dilation (nncc_pool2d_fast_ok); other pools
 * go to nncc_pool2d_f32. */
int nncc_pool2d_fast_ok(const nncc_pool2d_params *p);
void nncc_pool2d_fast_f32(const nncc_pool2d_params *p, const float *x, float *y);
/* One plane of it (x: H x W, y: OH x OW; p->n, p->c and p->threads not
 * read), on the calling thread: for kernels that pool what they computed
 * (nncc_conv2d_implicit_pool_f32). Only where nncc_pool2d_fast_ok(p). */
void nncc_pool2d_plane_f32(const nncc_pool2d_params *p, const float *x, float *y);

/* The implicit GEMM followed by a 2-D max/average pool of its output
 * (nncc_pool2d_fast_ok(q)), without the convolution's full output: its
 * channels are pooled a few at a time from a buffer in the scratch
 * (nncc_conv2d_implicit_pool_scratch_size(p) floats). One group; the weight
 * packed as for nncc_conv2d_implicit_f32; y is the pooled map. */
int64_t nncc_conv2d_implicit_pool_scratch_size(const nncc_conv2d_params *p);
void nncc_conv2d_implicit_pool_f32(const nncc_conv2d_params *p, const nncc_pool2d_params *q, const float *x,
                                   const float *wp, const float *b, float *y, float *scratch);


/* y(N,C) = mean over H*W of x(N,C,HW) */
void nncc_global_avgpool_f32(int64_t nc, int64_t hw, const float *x, float *y);
/* The same, vectorised (the sum in another order) and with OpenMP over the
 * nc rows when threads > 1 (nncc_rt_window.c) */
void nncc_global_avgpool_fast_f32(int64_t nc, int64_t hw, int64_t threads, const float *x, float *y);

/* GridSample (nncc_rt_sample.c): y(N,C,out...) = x(N,C,in...) sampled at
 * grid(N,out...,nd), whose last dim holds normalised (x, y[, z]) in [-1, 1]
 * (the reverse of the spatial dims' order); nd is 1 to 3. */
typedef enum { NNCC_GS_LINEAR = 0, NNCC_GS_NEAREST, NNCC_GS_CUBIC } nncc_gs_mode;
typedef enum { NNCC_GS_ZEROS = 0, NNCC_GS_BORDER, NNCC_GS_REFLECTION } nncc_gs_padding;

typedef struct {
    int64_t n, c, nd;            /* batch, channels, spatial rank */
    int64_t in[3];               /* input spatial dims, outermost first */
    int64_t out_count;           /* output positions per (n, c) */
    int32_t mode;                /* nncc_gs_mode */
    int32_t padding;             /* nncc_gs_padding */
    int32_t align_corners;       /* -1 and 1 are the centres of the corner pixels */
} nncc_grid_sample_params;

void nncc_grid_sample_f32(const nncc_grid_sample_params *p, const float *x, const float *grid, float *y);

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

/* nncc_gemm_ref_f32 is the plain reference (i-k-j loops); nncc_gemm_f32
 * computes the same with the rows and columns blocked so compilers vectorise
 * it (checked against the reference in tests/unit/test_kernels.c). */
void nncc_gemm_f32(const nncc_gemm_params *p, const float *a, const float *b,
                   const float *c, float *y);
void nncc_gemm_ref_f32(const nncc_gemm_params *p, const float *a, const float *b,
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
/* The batch walk of MatMul and the packed Gemm: the offsets of batch item
 * idx[0..rank) into A and B (a_step, b_step per batch dim, 0: broadcast),
 * then idx advanced to the next item, row-major over dims. */
static inline void nncc_batch_next(int64_t rank, const int64_t *dims, const int64_t *a_step, const int64_t *b_step,
                                   int64_t *idx, int64_t *ao, int64_t *bo)
{
    *ao = *bo = 0;
    for (int64_t d = 0; d < rank; d++) {
        *ao += idx[d] * a_step[d];
        *bo += idx[d] * b_step[d];
    }
    for (int64_t d = rank - 1; d >= 0; d--) {
        if (++idx[d] < dims[d])
            break;
        idx[d] = 0;
    }
}

/* The fast Gemm/MatMul with a constant B (nncc_rt_sgemm.c), through the
 * convolution's packed micro-kernel:
 *     y(M,N) = act(op(A)(M,K) x Bp(K,N) + beta * C)   per batch product
 * B (with Gemm's alpha folded in) is packed once, at compile time, by
 * nncc_sgemm_pack_b_f32 into nncc_sgemm_packed_size(k, n) floats: panels of
 * NNCC_GEMM_NR columns stored k-major, bp[panel][k][j], columns past N zero.
 * A is packed at run time into `scratch` (nncc_sgemm_scratch_size(p) floats,
 * planned by nncc in the arena). M <= 2 (a fully connected layer at batch 1
 * or 2) runs a matrix-vector loop over the packed panels instead. With
 * OpenMP and threads > 1, threads share the column panels (each output
 * element is summed in the same order whatever the thread count). */
typedef struct {
    int64_t m, n, k;             /* per product: y (M,N), op(A) (M,K), B (K,N) */
    int32_t trans_a;             /* A stored (K,M) */
    int32_t bias;                /* nncc_bias_kind of C (M,N broadcast) */
    float beta;                  /* y += beta * C */
    nncc_act_params act;         /* fused activation */
    int64_t batch;               /* number of products (MatMul's batch dims; 1 for Gemm) */
    int64_t rank;                /* rank of the broadcast batch shape */
    int64_t dims[NNCC_RT_MAX_RANK];    /* batch shape */
    int64_t a_step[NNCC_RT_MAX_RANK];  /* elements between A matrices per batch dim (0: broadcast) */
    int64_t b_step[NNCC_RT_MAX_RANK];  /* floats between packed B matrices per batch dim (0: broadcast) */
    int64_t threads;             /* OpenMP threads when built with OpenMP (0 or 1: one) */
} nncc_sgemm_params;

int64_t nncc_sgemm_packed_size(int64_t k, int64_t n);
/* bp = alpha * B packed; B stored (K,N), or (N,K) when trans_b */
void nncc_sgemm_pack_b_f32(int64_t k, int64_t n, int32_t trans_b, float alpha, const float *b, float *bp);
int64_t nncc_sgemm_scratch_size(const nncc_sgemm_params *p);
void nncc_sgemm_f32(const nncc_sgemm_params *p, const float *a, const float *bp, const float *c, float *y,
                    float *scratch);
/* The micro-kernel this build of the runtime runs, chosen by the target's
 * predefined macros: "AVX-512F", "AVX2+FMA", "NEON" or "portable C". */
const char *nncc_sgemm_kernel(void);

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
    NNCC_UN_SWISH, NNCC_UN_SINH, NNCC_UN_COSH, NNCC_UN_ASIN, NNCC_UN_ACOS,
    NNCC_UN_ATAN, NNCC_UN_ASINH, NNCC_UN_ACOSH, NNCC_UN_ATANH, NNCC_UN_BITNOT
} nncc_unary_op;

/* y[i] = op(x[i]) for i in [0, n); alpha/beta as in the ONNX operator. */
void nncc_unary_f32(int32_t op, float alpha, float beta, int64_t n,
                    const float *x, float *y);
/* The same for any type of NNCC_RT_FLOAT_TYPES / NNCC_RT_INT_TYPES; floats
 * compute in their own precision. Integers know IDENTITY, RELU, CLIP (alpha,
 * beta are the bounds), NEG, ABS, SIGN and BITNOT; other ops copy. */
void nncc_unary(int32_t op, int32_t type, double alpha, double beta, int64_t n,
                const void *x, void *y);

typedef enum {
    NNCC_BIN_ADD = 0, NNCC_BIN_SUB, NNCC_BIN_MUL, NNCC_BIN_DIV, NNCC_BIN_POW,
    NNCC_BIN_MAX, NNCC_BIN_MIN, NNCC_BIN_MOD, NNCC_BIN_FMOD,
    NNCC_BIN_PRELU /* a < 0 ? a * b : a */,
    NNCC_BIN_AND, NNCC_BIN_OR, NNCC_BIN_XOR, /* bitwise, integers only */
    NNCC_BIN_SHL, NNCC_BIN_SHR              /* shifts by b (>= bits gives 0), integers only */
} nncc_binary_op;

/* The scalar function of every float unary and binary op, per floating type
 * (T = float: nncc_unary1_f32, nncc_binary1_f32; double: _f64):
 *   T nncc_unary1_f32(op, alpha, beta, v)   op an nncc_unary_op
 *   T nncc_binary1_f32(op, a, b)            op an nncc_binary_op
 * The elementwise kernels apply them element by element. They are static
 * inline here so that the fused elementwise loops nncc writes into generated
 * code (passes/eltwise.c), which call them with constant op codes, compile
 * to plain arithmetic: one definition of each op's numbers for both. */
#define NNCC_UNARY1_FLOAT(T, S, F)                                              \
    static inline T nncc_sigmoid1_##S(T x)                                      \
    {                                                                           \
        if (x >= 0) /* split on sign so exp never overflows */                  \
            return 1 / (1 + exp##F(-x));                                        \
        const T e = exp##F(x);                                                  \
        return e / (1 + e);                                                     \
    }                                                                           \
    static inline T nncc_softplus1_##S(T x)                                     \
    {                                                                           \
        return x > 0 ? x + log1p##F(exp##F(-x)) : log1p##F(exp##F(x));          \
    }                                                                           \
    static inline T nncc_unary1_##S(int32_t op, T alpha, T beta, T v)           \
    {                                                                           \
        switch (op) {                                                           \
        case NNCC_UN_IDENTITY:   return v;                                      \
        case NNCC_UN_RELU:       return v > 0 ? v : 0;                          \
        case NNCC_UN_LEAKY_RELU: return v < 0 ? alpha * v : v;                  \
        case NNCC_UN_CLIP:       v = v < alpha ? alpha : v; return v > beta ? beta : v; \
        case NNCC_UN_SIGMOID:    return nncc_sigmoid1_##S(v);                   \
        case NNCC_UN_TANH:       return tanh##F(v);                             \
        case NNCC_UN_SQRT:       return sqrt##F(v);                             \
        case NNCC_UN_EXP:        return exp##F(v);                              \
        case NNCC_UN_LOG:        return log##F(v);                              \
        case NNCC_UN_NEG:        return -v;                                     \
        case NNCC_UN_ABS:        return fabs##F(v);                             \
        case NNCC_UN_RECIPROCAL: return 1 / v;                                  \
        case NNCC_UN_FLOOR:      return floor##F(v);                            \
        case NNCC_UN_CEIL:       return ceil##F(v);                             \
        case NNCC_UN_ERF:        return erf##F(v);                              \
        case NNCC_UN_ELU:        return v < 0 ? alpha * (exp##F(v) - 1) : v;    \
        case NNCC_UN_SELU:       return v <= 0 ? beta * (alpha * exp##F(v) - alpha) : beta * v; \
        case NNCC_UN_HARD_SIGMOID: v = alpha * v + beta; return v < 0 ? 0 : v > 1 ? 1 : v; \
        case NNCC_UN_HARD_SWISH: {                                              \
            T h = v / 6 + (T)0.5;                                               \
            h = h < 0 ? 0 : h > 1 ? 1 : h;                                      \
            return v * h;                                                       \
        }                                                                       \
        case NNCC_UN_SOFTPLUS:   return nncc_softplus1_##S(v);                  \
        case NNCC_UN_SOFTSIGN:   return v / (1 + fabs##F(v));                   \
        case NNCC_UN_SIN:        return sin##F(v);                              \
        case NNCC_UN_COS:        return cos##F(v);                              \
        case NNCC_UN_TAN:        return tan##F(v);                              \
        case NNCC_UN_ROUND:      return rint##F(v); /* default rounding: half to even */ \
        case NNCC_UN_SIGN:       return v > 0 ? 1 : v < 0 ? -1 : v;             \
        case NNCC_UN_GELU:                                                      \
            if (alpha != 0) /* approximate="tanh" */                            \
                return (T)0.5 * v * (1 + tanh##F((T)0.7978845608028654 * (v + (T)0.044715 * v * v * v))); \
            return (T)0.5 * v * (1 + erf##F(v * (T)0.7071067811865476));        \
        case NNCC_UN_MISH:       return v * tanh##F(nncc_softplus1_##S(v));     \
        case NNCC_UN_CELU: {                                                    \
            const T neg = alpha * (exp##F(v / alpha) - 1);                      \
            return (v > 0 ? v : 0) + (neg < 0 ? neg : 0);                       \
        }                                                                       \
        case NNCC_UN_THRESHOLDED_RELU: return v > alpha ? v : 0;                \
        case NNCC_UN_SHRINK:     return v < -alpha ? v + beta : v > alpha ? v - beta : 0; \
        case NNCC_UN_SWISH:      return v * nncc_sigmoid1_##S(alpha * v);       \
        case NNCC_UN_SINH:       return sinh##F(v);                             \
        case NNCC_UN_COSH:       return cosh##F(v);                             \
        case NNCC_UN_ASIN:       return asin##F(v);                             \
        case NNCC_UN_ACOS:       return acos##F(v);                             \
        case NNCC_UN_ATAN:       return atan##F(v);                             \
        case NNCC_UN_ASINH:      return asinh##F(v);                            \
        case NNCC_UN_ACOSH:      return acosh##F(v);                            \
        case NNCC_UN_ATANH:      return atanh##F(v);                            \
        default:                 return v;                                      \
        }                                                                       \
    }
#define NNCC_UNARY1_FLOAT_X(CODE, T, S, F) NNCC_UNARY1_FLOAT(T, S, F)
NNCC_RT_FLOAT_TYPES(NNCC_UNARY1_FLOAT_X)

#define NNCC_BINARY1_FLOAT(CODE, T, S, F)                                       \
    static inline T nncc_binary1_##S(int32_t op, T a, T b)                      \
    {                                                                           \
        switch (op) {                                                           \
        case NNCC_BIN_ADD:   return a + b;                                      \
        case NNCC_BIN_SUB:   return a - b;                                      \
        case NNCC_BIN_MUL:   return a * b;                                      \
        case NNCC_BIN_DIV:   return a / b;                                      \
        case NNCC_BIN_POW:   return pow##F(a, b);                               \
        case NNCC_BIN_MAX:   return a > b || isnan(a) ? a : b;                  \
        case NNCC_BIN_MIN:   return a < b || isnan(a) ? a : b;                  \
        case NNCC_BIN_FMOD:  return fmod##F(a, b);                              \
        case NNCC_BIN_MOD: { /* result takes the sign of the divisor */         \
            T r = fmod##F(a, b);                                                \
            return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;                \
        }                                                                       \
        case NNCC_BIN_PRELU: return a < 0 ? a * b : a;                          \
        default:             return 0;                                          \
        }                                                                       \
    }
NNCC_RT_FLOAT_TYPES(NNCC_BINARY1_FLOAT)


/* y[i] = start + i * delta for i in [0, n) (Range); start and delta point
 * to one element of `type` (any type of the typed lists). */
void nncc_range(int32_t type, const void *start, const void *delta, int64_t n, void *y);

/* y = cumulative sum (prod != 0: product) of x (shape dims[0..rank)) along
 * axis, which may come from data (a negative one counts from the end);
 * exclusive leaves the current element out, reverse runs from the end.
 * Any type of the typed lists. Returns nonzero if axis is out of range. */
int nncc_cumulative(int32_t type, int32_t prod, int64_t rank, const int64_t *dims, int64_t axis,
                    int32_t exclusive, int32_t reverse, const void *x, void *y);

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
/* y = a op b for any type of the typed lists (no activation). Integer
 * division by zero gives 0 rather than trapping; +, -, * wrap. */
void nncc_binary(int32_t op, int32_t type, const nncc_bcast *bc, const void *a,
                 const void *b, void *y);

/* y = x broadcast to bc->dims (Expand); elements of `size` bytes. */
void nncc_broadcast_copy(const nncc_bcast *bc, size_t size, const void *x, void *y);

/* Attention (nncc_rt_attention.c): per batch b, query head h and query i,
 *   y = softmax(softcap(scale * q.k_j) + bias(b, h, i, j)) . v_j  over keys j
 * with keys = past keys (B,Hkv,P,D) then new keys; query head h reads key
 * head h / (Hq / Hkv) (grouped-query attention). bias is the mask (bool:
 * 0 or -inf; float: added; keys past its last dim: -inf), the causal rule
 * j <= i + offset, the sliding window, and keys at or past nonpad[b]; offset
 * is P, or nonpad[b] - q_len with nonpad. A row with every key masked gives
 * 0. Q, K, V and Y are addressed by strides, so (B,H,S,D) and (B,S,H*D)
 * layouts take the same kernel; present keys/values are (B,Hkv,P+S,D). */
typedef struct {
    int64_t batch, q_heads, kv_heads;   /* B, Hq, Hkv (Hq a multiple of Hkv) */
    int64_t q_len, kv_new, past_len;    /* queries, new keys, cached keys P */
    int64_t head, v_head;               /* D (Q, K), Dv (V, Y) */
    int64_t qs[3], ks[3], vs[3], ys[3]; /* element strides of Q, K, V, Y for (b, head, position) */
    float scale, softcap;               /* softcap 0: none */
    int32_t causal;
    int64_t left_window, right_window;  /* -1: unbounded */
    int32_t mask;                       /* 0 none, 1 bool (uint8), 2 float (added) */
    int64_t ms[4];                      /* mask strides for (b, h, i, j), 0 where broadcast */
    int64_t mask_len;                   /* the mask's last dim */
    int32_t qk_mode;                    /* qk_out: 0/1 scores, 2 scores + bias, 3 softmax */
} nncc_attention_params;

/* mask, past_k/past_v (both or neither), nonpad (B) and the outputs but y may be NULL. */
void nncc_attention_f32(const nncc_attention_params *p, const float *q, const float *k, const float *v,
                        const void *mask, const float *past_k, const float *past_v, const int64_t *nonpad,
                        float *y, float *present_k, float *present_v, float *qk_out);

/* Recurrent layers (nncc_rt_rnn.c): RNN (tanh), GRU (sigmoid, tanh) and
 * LSTM (sigmoid, tanh, tanh), each batch row and direction on its own.
 * W is (dirs, G*H, I), R (dirs, G*H, H), B (dirs, 2*G*H) or NULL, with the
 * ONNX gate order (GRU z, r, h; LSTM i, o, f, c); P (dirs, 3*H) LSTM
 * peepholes or NULL. Step t of direction d writes H_t to its row of y,
 * reading H_{t-1} from the row before (h0 or zeros at the start); rows at
 * or past seq_lens[b] are 0. yh receives the last H (GRU also uses its row
 * for r * H_{t-1} while stepping); yc (LSTM) holds the cell state, updated
 * in place. y, yh and (LSTM) yc must be given: the compiler provides them
 * when the model leaves them out. */
typedef enum { NNCC_RNN_SIMPLE = 0, NNCC_RNN_GRU, NNCC_RNN_LSTM } nncc_rnn_kind;

typedef struct {
    int32_t kind;                /* nncc_rnn_kind */
    int64_t seq, batch, input, hidden, dirs;
    int32_t reverse;             /* one direction, run from the end */
    int32_t linear_before_reset; /* GRU */
    float clip;                  /* > 0: gate inputs clipped to [-clip, clip] */
    int64_t xs[2];               /* X strides for (t, b) */
    int64_t ys[3];               /* Y strides for (t, d, b) */
    int64_t hs[2];               /* strides of Y_h, Y_c, initial_h, initial_c for (d, b) */
} nncc_rnn_params;

void nncc_rnn_f32(const nncc_rnn_params *p, const float *x, const float *w, const float *r, const float *b,
                  const int32_t *seq_lens, const float *h0, const float *c0, const float *peep, float *y,
                  float *yh, float *yc);

/* LinearAttention (nncc_rt_attention.c): per batch and key head, the state
 * S (Dk,Dv) (in `state`, which starts as past or zeros and ends as the
 * present state) runs over the T steps: S *= exp(decay) per row (gated),
 * v -= S^T k then *= beta (delta), S += k v^T; each query head of the group
 * then reads y = scale * q^T S. q (B,T,Hq*Dk), k (B,T,Hkv*Dk), v
 * (B,T,Hkv*Dv), y (B,T,Hq*Dv); decay (B,T,Hkv) or (B,T,Hkv*Dk); beta
 * (B,T,Hkv) or (B,T,1). */
typedef struct {
    int64_t batch, steps, q_heads, kv_heads, dk, dv;
    float scale;
    int32_t gated, delta;
    int64_t decay_per_row;       /* decay has Dk values per head (else 1) */
    int64_t beta_heads;          /* beta's last dim: Hkv or 1 */
} nncc_linear_attention_params;

void nncc_linear_attention_f32(const nncc_linear_attention_params *p, const float *q, const float *k, const float *v,
                               const float *past, const float *decay, const float *beta, float *y, float *state);

/* RotaryEmbedding (nncc_rt_attention.c): x (B,S,H*D) or (B,H,S,D), addressed
 * by strides per (b, s, h); the first `rot` of each head's D values are
 * rotated by (cos, sin)[pos] of shape (rot/2) (halves, or interleaved
 * pairs), the rest copied. pos = position_ids[b, s] into caches of
 * (max_pos, rot/2), or without ids caches of (B, S, rot/2). Returns nonzero
 * on a position out of range. */
typedef struct {
    int64_t batch, seq, heads, head, rot;
    int64_t xs[3];               /* element strides of x and y for (b, s, h) */
    int64_t max_pos;             /* rows of the caches (with position ids) */
    int32_t interleaved;
} nncc_rotary_params;

int nncc_rotary_f32(const nncc_rotary_params *p, const float *x, const float *cos_cache, const float *sin_cache,
                    const int64_t *position_ids, float *y);

/* DFT (nncc_rt_einsum.c): x of dims[0..rank) whose last dim is 1 (real) or
 * 2 (complex), transformed along axis (< rank - 1; negative counts from the
 * end, as data may give it) -> y of the same dims with a last dim of 2;
 * inverse divides by the length. Full spectrum only. Returns nonzero on a
 * bad axis. */
int nncc_dft_f32(int64_t rank, const int64_t *dims, int64_t axis, int32_t inverse, const float *x, float *y);

/* Einsum (nncc_rt_einsum.c): every distinct index letter is one loop of
 * size dims[l]; y (y_count elements, zeroed first) accumulates the product
 * of the inputs, each addressed by its element stride per letter (0: the
 * input lacks the letter; a repeated letter, a diagonal, adds its strides). */
#define NNCC_EINSUM_MAX_LETTERS 16
typedef struct {
    int64_t n_in, n_letters, y_count;
    int64_t dims[NNCC_EINSUM_MAX_LETTERS];
    int64_t ystride[NNCC_EINSUM_MAX_LETTERS];    /* 0 for summed letters */
    int64_t xstride[3][NNCC_EINSUM_MAX_LETTERS];
} nncc_einsum_params;

/* float32 or float64 (type); x holds n_in input pointers. */
void nncc_einsum(const nncc_einsum_params *p, int32_t type, const void *const *x, void *y);

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

/* y(outer,len,inner) = 1 at the first maximum of x along len, else 0 (Hardmax). */
void nncc_hardmax_f32(int64_t outer, int64_t len, int64_t inner, const float *x, float *y);

/* y(outer,len,inner) = softmax of x along len. log != 0: LogSoftmax. */
void nncc_softmax_f32(int64_t outer, int64_t len, int64_t inner, int32_t log,
                      const float *x, float *y);

/* Losses (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss). x is
 * (N,C,D) (D: the product of the trailing dims, 1 if none), t (N,D) the
 * class of each position, w (C) per-class weights or NULL. softmax != 0:
 * x holds scores and log_prob (N,C,D), when not NULL, receives
 * log_softmax(x) along C; otherwise x holds log-probabilities. Positions
 * whose class is ignore_index (when has_ignore) weigh 0. reduction: 0 none
 * (y is (N,D)), 1 sum, 2 mean (sum / total weight); y is then one value.
 * Returns nonzero if a class is out of range. */
int nncc_nll_loss_f32(int64_t n, int64_t c, int64_t d, int32_t reduction, int32_t softmax,
                      int32_t has_ignore, int64_t ignore_index, const float *x, const int64_t *t,
                      const float *w, float *y, float *log_prob);

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
/* Any type of the typed lists; integers accumulate exactly in their own type
 * and know SUM, MEAN (truncating), MAX, MIN, PROD, L1, SUM_SQUARE. */
void nncc_reduce(const nncc_reduce_params *p, int32_t type, const void *x, void *y);

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

/* GatherElements / ScatterElements along one axis (nncc_rt_index.c). */
typedef struct {
    int64_t rank;                      /* at least 1 */
    int64_t axis;
    int64_t dims[NNCC_RT_MAX_RANK];    /* shape of the indices (= GatherElements' output, = updates) */
    int64_t xstride[NNCC_RT_MAX_RANK]; /* strides of the data tensor (elements) */
    int64_t axis_len;                  /* data's size along axis */
} nncc_elements_params;

typedef enum { NNCC_SCATTER_NONE = 0, NNCC_SCATTER_ADD, NNCC_SCATTER_MUL, NNCC_SCATTER_MAX,
               NNCC_SCATTER_MIN } nncc_scatter_reduction;

/* y(indices' shape) = x at the indices along axis; idx holds int64 (idx_size
 * 8) or int32 (4) values, negative ones counting from the end. Returns
 * nonzero if an index is out of range. */
int nncc_gather_elements(const nncc_elements_params *p, size_t size, const void *x, const void *idx,
                         size_t idx_size, void *y);
/* y (x's shape, already a copy of x) gets the updates at the indices along
 * axis, combined by `reduction` (other than NONE: float32 only). */
int nncc_scatter_elements(const nncc_elements_params *p, int32_t reduction, size_t size, const void *idx,
                          size_t idx_size, const void *upd, void *y);

/* ScatterND / GatherND: idx is (count, k) int64 tuples addressing the first
 * k dims of the data, whose slices have `slice` elements; xdims the data's
 * first k dims. GatherND: y(count, slice) = x[tuple] (per batch of
 * `batch` leading dims: tuples then index inside each batch's data, of
 * `batch_stride` elements, and count is per batch). ScatterND: y (a copy of
 * the data) gets updates(count, slice) at each tuple. Return nonzero on an
 * index out of range. */
int nncc_gather_nd(int64_t batch, int64_t batch_stride, int64_t count, int64_t k, const int64_t *xdims,
                   int64_t slice, size_t size, const void *x, const int64_t *idx, void *y);
int nncc_scatter_nd(int64_t count, int64_t k, const int64_t *xdims, int64_t slice, int32_t reduction,
                    size_t size, const int64_t *idx, const void *upd, void *y);

/* y(batch, rows, cols) = x where the element is on or above (upper) or on
 * or below (!upper) diagonal k, else 0 (all-zero bytes) (Trilu). */
void nncc_trilu(int64_t batch, int64_t rows, int64_t cols, int64_t k, int32_t upper, size_t size,
                const void *x, void *y);

/* y[i] = isnan(x[i]) (nan != 0) or isinf of the selected signs (IsNaN,
 * IsInf), x of a floating type of NNCC_RT_FLOAT_TYPES or float16, y bool. */
void nncc_isinf(int32_t type, int32_t nan, int32_t pos, int32_t neg, int64_t n, const void *x, uint8_t *y);

/* TensorScatter: y (outer, max_len, inner) is a copy of the cache; update
 * (outer, len, inner) is written at sequence positions idx[b] + s (b the
 * batch of each outer row: outer / batch rows per batch; idx NULL: 0),
 * modulo max_len when circular. Returns nonzero on a position out of range. */
int nncc_tensor_scatter(int64_t batch, int64_t outer, int64_t max_len, int64_t len, int64_t inner, int32_t circular,
                        size_t size, const void *update, const int64_t *idx, void *y);
/* ReverseSequence: x viewed as (d0, d1, inner) with time on dim `time`
 * (0 or 1) and batch on the other; the first lens[b] steps of each batch
 * are reversed. Returns nonzero on a length out of range. */
int nncc_reverse_sequence(int64_t d0, int64_t d1, int64_t inner, int32_t time, size_t size, const void *x,
                          const int64_t *lens, void *y);

/* y[i] = (to)x[i]; types are NNCC_RT_* codes. Float to integer truncates
 * toward zero (C semantics), any nonzero value becomes true for BOOL. */
void nncc_cast(int32_t from, int32_t to, int64_t n, const void *x, void *y);

/* ------------------------------------------------------------------------ */
/* Quantisation (nncc_rt_quant.c)                                            */
/* ------------------------------------------------------------------------ */
/* x is (outer, len, inner) around the quantisation axis; the scale (and
 * zero point) of element (o, a, i) is at o * s_outer + (a / block) * s_axis
 * + i * s_inner: all strides 0 per tensor, s_axis 1 per axis, and the
 * blocked layout (outer, len / block, inner) for block_size. */
typedef struct {
    int64_t outer, len, inner;
    int64_t block;                     /* at least 1 */
    int64_t s_outer, s_axis, s_inner;
} nncc_quant_params;

/* y = saturate(round_half_even(x / scale) + zero_point), y of qtype (int8,
 * uint8, int16, uint16, int32); zp of qtype or NULL (0). */
void nncc_quantize(const nncc_quant_params *p, int32_t qtype, const float *x, const float *scale,
                   const void *zp, void *y);
/* y = (x - zero_point) * scale, x of qtype. */
void nncc_dequantize(const nncc_quant_params *p, int32_t qtype, const void *x, const float *scale,
                     const void *zp, float *y);

/* QLinearMatMul: y(batch,M,N) = saturate(rint((a - azp)(b - bzp) * s) + yzp)
 * with s = a_scale * b_scale / y_scale rounded as the scale type (float32
 * or float16) computes it; per-tensor scales and zero points (one value
 * each, zero points NULL: 0); a, b, y of the 8-bit types ta, tb, ty; b_step
 * 0 shares one b across the batch. */
typedef struct {
    int64_t batch, m, k, n, b_step;
    int32_t ta, tb, ty, scale_type;
} nncc_qmatmul_params;

void nncc_qlinear_matmul(const nncc_qmatmul_params *p, const void *a, const void *as, const void *azp,
                         const void *b, const void *bs, const void *bzp, const void *ys, const void *yzp, void *y);

/* ------------------------------------------------------------------------ */
/* Comparisons, logic, selection (nncc_rt_logic.c)                           */
/* ------------------------------------------------------------------------ */
typedef enum { NNCC_CMP_EQ = 0, NNCC_CMP_LT, NNCC_CMP_LE, NNCC_CMP_GT, NNCC_CMP_GE } nncc_cmp_op;
typedef enum { NNCC_LOGIC_AND = 0, NNCC_LOGIC_OR, NNCC_LOGIC_XOR, NNCC_LOGIC_NOT } nncc_logic_op;

/* y = a op b (bool), inputs of any type of the typed lists, broadcast by bc (sa, sb). */
void nncc_compare(int32_t op, int32_t type, const nncc_bcast *bc, const void *a,
                  const void *b, uint8_t *y);
/* y = a op b on bools; NOT ignores b (may be NULL). */
void nncc_logical(int32_t op, const nncc_bcast *bc, const uint8_t *a, const uint8_t *b, uint8_t *y);
/* y = cond ? x : z, broadcast by bc (sa: cond, sb: x, sc: z); elements of `size` bytes. */
void nncc_where(const nncc_bcast *bc, size_t size, const uint8_t *cond, const void *x,
                const void *z, void *y);
/* y(outer, inner) = index of the max (min != 0: min) of x(outer, len, inner)
 * along len; ties go to the first index, or the last when last != 0. */
void nncc_argmax(int64_t outer, int64_t len, int64_t inner, int32_t min, int32_t last,
                 int32_t type, const void *x, int64_t *y);
/* y(rows, len) = (x - mean) / sqrt(var + eps) * scale(len) + bias(len), with
 * mean and variance over each row (LayerNormalization); bias may be NULL.
 * rms != 0: y = x / sqrt(mean(x^2) + eps) * scale (RMSNormalization; mean
 * is then 0). mean(rows) and inv_std(rows), when not NULL, receive each
 * row's mean and 1 / sqrt(var + eps). */
void nncc_layernorm_f32(int64_t rows, int64_t len, float eps, int32_t rms, const float *scale,
                        const float *bias, const float *x, float *y, float *mean, float *inv_std);
/* y(N,C,HW) normalised over each group of C/groups channels (and HW), then
 * * scale[c] + bias[c] (GroupNormalization). */
void nncc_groupnorm_f32(int64_t n, int64_t c, int64_t hw, int64_t groups, float eps, const float *scale,
                        const float *bias, const float *x, float *y);
/* y(N,C,HW) = x / (bias + alpha / size * sum of x^2 over the channels
 * [c - (size-1)/2, c + size/2])^beta (LRN). */
void nncc_lrn_f32(int64_t n, int64_t c, int64_t hw, int64_t size, float alpha, float beta, float bias,
                  const float *x, float *y);
/* y(batch) = det of x(batch, m, m), by LU with partial pivoting (Det). */
void nncc_det_f32(int64_t batch, int64_t m, const float *x, float *y);
/* DynamicQuantizeLinear: scale = (max(x, 0) - min(x, 0)) / 255, zero point
 * = round(-min / scale) clamped to [0, 255], y = quantize(x) as uint8. */
void nncc_dynamic_quantize_f32(int64_t n, const float *x, uint8_t *y, float *scale, uint8_t *zero_point);

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

/* The reference: y(N,M,OH,OW) = clamp(y_zp + requant(bias[m] + sum (x - x_zp) * w,
 * mult[m], rshift[m])) with x (N,C,H,W), w (M,C/group,KH,KW) as Conv has it,
 * bias, mult, rshift (M); padding reads as x_zp (real 0). bias may be NULL. */
void nncc_conv2d_i8_ref(const nncc_conv2d_i8_params *p, const int8_t *x, const int8_t *w,
                        const int32_t *bias, const int32_t *mult, const int32_t *rshift, int8_t *y);

/* The fast convolution: the same y as nncc_conv2d_i8_ref from the weights
 * and bias packed once, at compile time, by nncc_conv2d_i8_pack: wp has the
 * plain weights' size, bp (M) is bias - (x_zp + 128) * sum(w[m]) (it returns
 * -1 when that leaves int32). `scratch` holds nncc_conv2d_i8_scratch_size(p)
 * bytes the kernel may overwrite (nncc plans it in the arena). */
#define NNCC_I8_MR 8   /* output channels per packed weight block */
int nncc_conv2d_i8_pack(const nncc_conv2d_i8_params *p, const int8_t *w, const int32_t *bias, int8_t *wp,
                        int32_t *bp);
int64_t nncc_conv2d_i8_scratch_size(const nncc_conv2d_i8_params *p);
void nncc_conv2d_i8(const nncc_conv2d_i8_params *p, const int8_t *x, const int8_t *wp, const int32_t *bp,
                    const int32_t *mult, const int32_t *rshift, int8_t *y, void *scratch);

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


/* ------------------------------------------------------------------------ */
/* Integer matmul and convolution (nncc_rt_intconv.c)                        */
/* ------------------------------------------------------------------------ */
typedef struct {
    int64_t batch, m, k, n;      /* a (batch,M,K), b (batch,K,N) or (K,N), y (batch,M,N) */
    int64_t b_step;              /* elements between b's matrices (0: one shared b) */
    int32_t ta, tb;              /* NNCC_RT_I8 or NNCC_RT_U8 */
    int32_t a_zp_per_row;        /* a's zero point has M values (else one) */
    int32_t b_zp_per_col;        /* b's zero point has N values (else one) */
} nncc_matmul_int_params;

/* MatMulInteger: y(batch,M,N) int32 = sum_k (a - azp[m]) * (b - bzp[n]); zero points may be NULL. */
void nncc_matmul_integer(const nncc_matmul_int_params *p, const void *a, const void *b, const void *azp,
                         const void *bzp, int32_t *y);
/* ConvInteger: y(N,M,OH,OW) int32 = conv(x(N,C,H,W) - xzp, w(M,C/group,KH,KW) - wzp[m]);
 * x of type tx, w of type tw (NNCC_RT_I8/U8); wzp has M values when wzp_per_m,
 * else one; zero points may be NULL; padding contributes 0 (p->act unused). */
void nncc_conv_integer(const nncc_conv2d_params *p, int32_t tx, int32_t tw, int32_t wzp_per_m, const void *x,
                       const void *w, const void *xzp, const void *wzp, int32_t *y);
/* QLinearConv: y(N,M,OH,OW) = saturate(rint((conv(x - xzp, w - wzp[m]) + bias[m]) *
 * (xs * ws[m] / ys)) + yzp) of type ty; per-tensor x/y scales and zero
 * points, w's per tensor or per output channel (w_per_m); bias (M) int32 or
 * NULL, yzp NULL means 0. */
void nncc_qlinear_conv(const nncc_conv2d_params *p, int32_t tx, int32_t tw, int32_t ty, int32_t w_per_m,
                       const void *x, const float *xs, const void *xzp, const void *w, const float *ws,
                       const void *wzp, const float *ys, const void *yzp, const int32_t *bias, void *y);

/* TopK: values(outer,k,inner) and indices(outer,k,inner) of the k largest
 * (largest != 0, else smallest) of x(outer,len,inner) along len, best first,
 * ties by lower index; elements of `size` bytes of `type` (NNCC_RT_*, not F16). */
void nncc_topk(int32_t type, size_t size, int64_t outer, int64_t len, int64_t inner, int64_t k, int32_t largest,
               const void *x, void *values, int64_t *indices);

/* ------------------------------------------------------------------------ */
/* Resize (nncc_rt_resize.c)                                                 */
/* ------------------------------------------------------------------------ */
enum { NNCC_RESIZE_HALF_PIXEL = 0, NNCC_RESIZE_ASYMMETRIC = 1, NNCC_RESIZE_ALIGN_CORNERS = 2,
       NNCC_RESIZE_PYTORCH_HALF_PIXEL = 3, NNCC_RESIZE_HALF_PIXEL_SYMMETRIC = 4 };
enum { NNCC_RESIZE_ROUND_PREFER_FLOOR = 0, NNCC_RESIZE_ROUND_PREFER_CEIL = 1, NNCC_RESIZE_FLOOR = 2,
       NNCC_RESIZE_CEIL = 3 };
typedef struct {
    int32_t rank;
    int32_t linear;                  /* 0: nearest, 1: linear (float32 only) */
    int32_t coord;                   /* NNCC_RESIZE_HALF_PIXEL, ... */
    int32_t nearest;                 /* NNCC_RESIZE_ROUND_PREFER_FLOOR, ... */
    int64_t in[NNCC_RT_MAX_RANK];    /* x's shape */
    int64_t out[NNCC_RT_MAX_RANK];   /* y's shape */
    double scale[NNCC_RT_MAX_RANK];  /* out / in as the coordinate transform uses it */
} nncc_resize_params;
/* y(out) = x(in) resized; elements of `size` bytes (linear: float32). */
void nncc_resize(const nncc_resize_params *p, size_t size, const void *x, void *y);

/* ---- Tile (nncc_rt_tile.c) ---- */
/* y(odims) = x(idims) repeated: y[i] = x[i mod idims] per dim; odims[d] is a
 * multiple of idims[d] (0 allowed); elements of `size` bytes. */
void nncc_tile(int64_t rank, const int64_t *idims, const int64_t *odims, size_t size, const void *x, void *y);

#ifdef __cplusplus
}
#endif
#endif /* NNCC_RUNTIME_H */
