#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus (tests/fuzz/corpus/*.bin).

Each file is one input in the byte layout that conv_transpose_fuzzer.cc
decodes (front to back; a missing byte reads as 0):

  structured (byte 0 < 0x80): a legal call by construction, then at most one
    hostile change
    flags        bits 0-1: N - 1 (mod 3); bit 2: channels first; bit 3: give
                 data_format; bits 4-5: dtype (0 f32, 1 f64, 2 f16, 3 bf16);
                 bit 6: a name; bit 7: plant NaN / Inf in the data
    batch % 4, cin % 7, cout % 7
    strides form % 4, dilations form % 4 (0 absent, 1 int, 2 N values, 3 N+2)
    padding % 3 (0 SAME, 1 VALID, 2 explicit)
    per spatial dim: in % 7, 1 + k % 5, 1 + s % 4, 1 + d % 3, output pick,
                     pad before % 4, pad after % 4
    budget       < 128: none, else 2^(b % 40) bytes
    mutate       >= 160: then field % 10, where, and a value byte (see any_int)
    seed         8 bytes, little endian: the data
    layer options (optional; absent bytes give none):
    epilogue     bits 0-3: activation % 9 (ACTIVATIONS order); bit 4: a bias
    alpha, lo, hi  PARAMS[b % len(PARAMS)]: leakyRelu / elu alpha, clamp bounds
    groups       pick % (the common divisors of cin and cout in 1..6)
  raw (byte 0 >= 0x80)
    types        bits 0-1 input dtype, 2-3 filter dtype, bit 4 plant NaN / Inf
    name % 3
    3 x (rank % 7, then rank value bytes): input, filters, output shapes
    2 x (len: 0 absent, else (len - 1) % 7 value bytes): strides, dilations
    padding      bit 7: a list of (p % 7) pairs (2 value bytes each), else the
                 string kPaddingStrings[p % 8]
    data_format % 12, budget (< 128 none, else 2^(b % 64)), seed (8 bytes)
    layer options (optional): epilogue, alpha, lo, hi as above; groups (0: 1,
    else a value byte follows); bias length (< 128: groups x the filters'
    output channels, else a value byte follows, read only with a bias)
  value byte (any_int): < 200 gives (b % 9) - 1, i.e. -1..7; else
    HOSTILE[(b - 200) % len(HOSTILE)]

Run from anywhere: python3 tests/fuzz/make_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'corpus')

I64_MIN, I64_MAX = -2**63, 2**63 - 1
# Same order as kHostile in conv_transpose_fuzzer.cc.
HOSTILE = [I64_MIN, I64_MAX, -1, -2, 0, 2**31, 2**31 - 1, 2**32, 2**32 + 1, 2**53 - 1, 2**53, 2**53 + 1,
           2**62, 3037000499, 3037000500, 46341, 65536, 2**20, 2**40, -2**31, I64_MAX // 2, I64_MAX - 1,
           100000, 16777217, I64_MIN + 1]
DTYPES = {'float32': 0, 'float64': 1, 'float16': 2, 'bfloat16': 3}
# Same order as kActivations and kParams in conv_transpose_fuzzer.cc.
ACTIVATIONS = ['linear', 'relu', 'clamp', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'gelu', 'silu']
PARAMS = [0.01, 0.2, 1.0, 1.7, -0.5, 3.0, 0.0, -1.0, 0.25, 6.0, '-inf', 'inf', 'nan']
FIELDS = {'input_shape': 0, 'filter_shape': 1, 'output_shape': 2, 'strides': 3, 'dilations': 4,
          'padding': 5, 'filter_dtype': 6, 'data_format': 7, 'rank': 8, 'input_dtype': 9}


def value_byte(v):
    if -1 <= v <= 7:
        return v + 1
    return 200 + HOSTILE.index(v)


def epilogue(activation, bias, alpha=0.01, lo=0.0, hi=6.0):
    return [ACTIVATIONS.index(activation) | (16 if bias else 0), PARAMS.index(alpha), PARAMS.index(lo),
            PARAMS.index(hi)]


def structured(n=2, cf=False, fmt=False, dtype='float32', named=False, nonfinite=False, batch=1, cin=3, cout=2,
               sform=2, dform=0, pad=0, dims=None, budget=0, mutation=None, seed=1, layer=None):
    """dims: per spatial dim (in, k, s, d, pick, pad_before, pad_after).
    layer: (epilogue(...), groups pick) or None."""
    dims = dims or [(3, 3, 2, 1, 0, 0, 0)] * n
    assert len(dims) == n
    flags = (n - 1) | (4 if cf else 0) | (8 if fmt else 0) | (DTYPES[dtype] << 4) | (64 if named else 0) | \
        (128 if nonfinite else 0)
    b = [0x10, flags, batch, cin, cout, sform, dform, pad]
    for (i, k, s, d, pick, pb, pa) in dims:
        b += [i, k - 1, s - 1, d - 1, pick, pb, pa]
    b.append(0 if budget == 0 else 128 + budget)  # 2^budget bytes
    if mutation is None:
        b.append(0)
    else:
        field, where, value = mutation
        b += [200, FIELDS[field], where, value_byte(value)]
    tail = [] if layer is None else layer[0] + [layer[1]]
    return bytes(b) + struct.pack('<Q', seed) + bytes(tail)


def raw(shapes, strides=None, dilations=None, padding='SAME', fmt=0, in_dtype=0, f_dtype=0, nonfinite=False,
        name=0, budget=0, seed=7, layer=None):
    """layer: (epilogue(...), groups value or None for 1, bias length value or None for the right one)."""
    b = [0x80, in_dtype | (f_dtype << 2) | (16 if nonfinite else 0), name]
    for shape in shapes:
        b.append(len(shape))
        b += [value_byte(v) for v in shape]
    for w in (strides, dilations):
        if w is None:
            b.append(0)
        else:
            b.append(len(w) + 1)
            b += [value_byte(v) for v in w]
    if isinstance(padding, list):
        b.append(128 | len(padding))
        for before, after in padding:
            b += [value_byte(before), value_byte(after)]
    else:
        b.append(['SAME', 'VALID', 'same', 'EXPLICIT', '', 'Same', 'valid', 'SAME '].index(padding))
    b.append(fmt)
    b.append(0 if budget == 0 else 128 + budget)
    tail = []
    if layer is not None:
        ep, groups, length = layer
        tail = ep + ([0] if groups is None else [1, value_byte(groups)])
        tail += [0] if length is None else [128, value_byte(length)]
    return bytes(b) + struct.pack('<Q', seed) + bytes(tail)


def seeds():
    s = {}
    # Legal calls: every rank, layout, dtype, padding and window form.
    for n in (1, 2, 3):
        for dtype in DTYPES:
            s[f'legal_{n}d_{dtype}'] = structured(n=n, dtype=dtype, seed=n * 10 + DTYPES[dtype])
            s[f'legal_{n}d_{dtype}_nc_explicit'] = structured(
                n=n, cf=True, dtype=dtype, pad=2, sform=3, dform=2,
                dims=[(4, 3, 2, 2, 1, 1, 2)] * n, seed=n * 100 + DTYPES[dtype])
    s['legal_2d_valid_int_strides'] = structured(pad=1, sform=1, dform=1, dims=[(4, 2, 3, 2, 2, 0, 0)] * 2)
    s['legal_2d_kernel_lt_stride'] = structured(dims=[(5, 1, 4, 1, 3, 0, 0), (2, 2, 4, 1, 1, 0, 0)])
    s['legal_2d_wide_channels'] = structured(cin=6, cout=6, batch=3, dims=[(6, 5, 2, 1, 1, 0, 0)] * 2)
    s['legal_1d_empty_batch'] = structured(n=1, batch=0)
    s['legal_2d_zero_channels'] = structured(cin=0, cout=2)
    s['legal_2d_zero_spatial'] = structured(dims=[(0, 3, 2, 1, 0, 0, 0), (3, 3, 2, 1, 0, 0, 0)])
    s['legal_3d_named_fmt'] = structured(n=3, fmt=True, named=True, sform=3)
    s['legal_2d_tight_budget'] = structured(budget=10)
    s['legal_2d_roomy_budget'] = structured(budget=30)
    # NaN / Inf planted in the data.
    for dtype in DTYPES:
        s[f'nonfinite_2d_{dtype}'] = structured(dtype=dtype, nonfinite=True, seed=1000 + DTYPES[dtype])
        s[f'nonfinite_1d_{dtype}_nc'] = structured(n=1, cf=True, dtype=dtype, nonfinite=True, seed=2000 + DTYPES[dtype])
    # One hostile value in a legal call.
    for field, where, value in [('input_shape', 1, 2**31), ('input_shape', 2, 2**53), ('output_shape', 1, 2**32),
                                ('output_shape', 2, I64_MAX), ('filter_shape', 0, 0), ('filter_shape', 1, -1),
                                ('filter_shape', 2, 2**53 + 1), ('strides', 0, 0), ('strides', 1, -2),
                                ('strides', 128, 2), ('dilations', 0, I64_MAX), ('padding', 1, 0),
                                ('filter_dtype', 1, 0), ('input_dtype', 2, 0), ('data_format', 8, 0),
                                ('rank', 0, 0), ('rank', 128 + 2, 5), ('strides', 0, 2**40),
                                ('dilations', 1, 3037000500)]:
        s[f'hostile_{field}_{where}_{value}'.replace('-', 'm')] = structured(mutation=(field, where, value))
    s['hostile_explicit_pad_huge'] = structured(pad=2, dims=[(3, 3, 2, 1, 0, 1, 1)] * 2,
                                                mutation=('padding', 3, I64_MAX))
    # Raw: ranks 0-6, huge dims, odd window arguments.
    s['raw_rank0'] = raw([[], [], []])
    s['raw_rank6'] = raw([[1, 2, 2, 2, 2, 1], [1, 1, 1, 1, 1, 1], [1, 2, 2, 2, 2, 1]])
    s['raw_over_2_31'] = raw([[1, 65536, 65536, 1], [1, 1, 1, 1], [1, 65536, 65536, 1]])
    s['raw_over_2_53'] = raw([[2**20, 2**20, 2**20, 1], [1, 1, 1, 1], [2**20, 2**20, 2**20, 1]])
    s['raw_int64_max'] = raw([[1, I64_MAX, 1], [1, 1, 1], [1, I64_MAX, 1]], strides=[1])
    s['raw_negative'] = raw([[1, -1, 1], [1, 1, 1], [1, -1, 1]], padding='VALID')
    s['raw_strides_len0'] = raw([[1, 3, 1], [2, 1, 1], [1, 6, 1]], strides=[])
    s['raw_strides_len6'] = raw([[1, 3, 1], [2, 1, 1], [1, 6, 1]], strides=[1, 2, 2, 2, 2, 1])
    s['raw_lowercase_same'] = raw([[1, 3, 1], [2, 1, 1], [1, 6, 1]], strides=[2], padding='same')
    s['raw_explicit_string'] = raw([[1, 3, 1], [2, 1, 1], [1, 6, 1]], strides=[2], padding='EXPLICIT')
    s['raw_list_wrong_len'] = raw([[1, 3, 1], [2, 1, 1], [1, 6, 1]], strides=[2], padding=[(0, 0), (1, 1)])
    s['raw_list_neg'] = raw([[1, 3, 1], [2, 1, 1], [1, 6, 1]], strides=[2], padding=[(0, 0), (-1, 2), (0, 0)])
    s['raw_list_huge'] = raw([[1, 3, 1], [2, 1, 1], [1, 6, 1]], strides=[2], padding=[(0, 0), (I64_MAX, I64_MAX), (0, 0)])
    s['raw_dtype_mismatch'] = raw([[1, 3, 1], [2, 1, 1], [1, 6, 1]], strides=[2], in_dtype=0, f_dtype=1)
    s['raw_bad_format'] = raw([[1, 3, 3, 1], [2, 2, 1, 1], [1, 6, 6, 1]], strides=[2], fmt=7)
    s['raw_kernel_huge_no_channels'] = raw([[1, 1, 1], [2**40, 0, 1], [1, 1, 0]], padding='SAME')
    s['raw_small_budget'] = raw([[1, 3, 1], [2, 1, 1], [1, 6, 1]], strides=[2], budget=4)
    # Layer options: every activation with a bias and groups, in every dtype;
    # depthwise; invalid parameters and hostile groups and bias lengths.
    for i, act in enumerate(ACTIVATIONS):
        for dtype in DTYPES:
            s[f'layer_{act}_{dtype}'] = structured(
                n=1 + i % 3, cf=i % 2 == 1, dtype=dtype, cin=4, cout=6, dims=[(3, 3, 2, 1, 1, 0, 0)] * (1 + i % 3),
                seed=3000 + 10 * i + DTYPES[dtype], layer=(epilogue(act, True, alpha=1.7, lo=-0.5, hi=0.25), 1))
    s['layer_depthwise'] = structured(cin=6, cout=6, layer=(epilogue('relu', True), 3))  # groups 6
    s['layer_columns'] = structured(n=1, cin=5, cout=2, dims=[(6, 4, 2, 1, 0, 0, 0)], layer=(epilogue('gelu', True), 0))
    s['layer_uncovered_phases'] = structured(cin=2, cout=4, dims=[(3, 1, 3, 1, 0, 0, 0)] * 2,
                                             layer=(epilogue('sigmoid', True), 1))
    s['layer_nonfinite'] = structured(nonfinite=True, cin=4, cout=4, layer=(epilogue('tanh', True), 1))
    s['layer_alpha_nan'] = structured(layer=(epilogue('elu', False, alpha='nan'), 0))
    s['layer_alpha_inf'] = structured(layer=(epilogue('leakyRelu', False, alpha='inf'), 0))
    s['layer_clamp_reversed'] = structured(layer=(epilogue('clamp', False, lo=1.0, hi=-1.0), 0))
    s['layer_clamp_unbounded'] = structured(layer=(epilogue('clamp', True, lo='-inf', hi='inf'), 0))
    shapes = [[1, 3, 4], [2, 2, 4], [1, 6, 4]]
    for groups in (0, -1, 2**53, I64_MAX, 3):
        s[f'layer_raw_groups_{groups}'.replace('-', 'm')] = raw(shapes, strides=[2], layer=(epilogue('relu', False), groups, None))
    for length in (0, -1, 2**32, I64_MAX, 3):
        s[f'layer_raw_bias_length_{length}'.replace('-', 'm')] = raw(shapes, strides=[2], layer=(epilogue('relu', True), 2, length))
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith('.bin'):
            os.remove(os.path.join(OUT, f))
    all_seeds = seeds()
    for name, data in sorted(all_seeds.items()):
        with open(os.path.join(OUT, name + '.bin'), 'wb') as f:
            f.write(data)
    print(f'make_corpus: wrote {len(all_seeds)} files to {OUT}')


if __name__ == '__main__':
    main()
