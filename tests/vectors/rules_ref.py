# rules_ref.py — transactions that break one rule of docs/ENCODING.md each
# ("Which code, in which order"), written from that page alone.
#
#   python3 rules_ref.py DIR
#
# writes DIR/NAME.bin for each case and prints one line per case:
# NAME CODE WHERE, WHERE being the byte offset of a decoding error or
# 'check' for a utxo_tx_check rule (tests/docs_ref.sh compares them with
# 'utxo tx check --json').
import os, struct, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chain_ref import varint

def blob(b): return varint(len(b)) + b
T = lambda k: bytes([k]) * 32
IMG = bytes([0x13, 5, 0, 0, 0x73, 0, 0, 0])
OUT = [(1, T(0xee), b'')]

def tx(inputs, outputs=OUT, refs=(), ver=1):
    # inputs: (outpoint txid, index, form bytes, witness bytes)
    b = struct.pack('<I', ver) + varint(len(inputs))
    if not inputs: b += struct.pack('<I', 5)
    else: b += varint(len(refs)) + b''.join(t + struct.pack('<I', i) for t, i in refs)
    b += b''.join(t + struct.pack('<I', i) + f for t, i, f, _ in inputs)
    b += varint(len(outputs)) + b''.join(struct.pack('<Q', v) + p + blob(d) for v, p, d in outputs)
    return b + b''.join(w for _, _, _, w in inputs)

def w(budget=1, code=IMG, args=b''): return varint(budget) + blob(code) + blob(args)
def img(k=1, i=0, **kw): return (T(k), i, b'\x01', w(**kw))
def ref(n, i=0, params=b''): return (T(1), i, b'\x03' + varint(n), w(code=params))
BASE = 4 + 1 + 1              # version, n_inputs, n_refs
IN0 = BASE + 36               # input 0's form byte
OUTS = IN0 + 1                # n_outputs, after one form-1 input

cases = [
    ('valid', tx([img()]), 0, 'check'),
    ('coinbase_without_outputs', tx([], []), 0, 'check'),
    ('version_2', tx([img()], ver=2), 14, 0),
    ('truncated', tx([img()])[:-1], 10, len(tx([img()])) - 1),
    ('trailing', tx([img()]) + b'\0', 11, len(tx([img()]))),
    ('nonminimal_budget', tx([(T(1), 0, b'\x01', b'\x81\x00' + blob(IMG) + blob(b''))]), 12,
     OUTS + 1 + 41),
    ('inputs_1025', struct.pack('<I', 1) + varint(1025) + b'\0' * 70000, 13, 4),
    # 1024 inputs cannot fit 100 bytes: refused before reading them, at the end
    ('inputs_past_the_end', struct.pack('<I', 1) + varint(1024) + b'\0' * 100, 10, 106),
    ('datum_4097', tx([img()], [(1, T(0xee), b'x' * 4097)]), 13, OUTS + 1 + 40),
    ('image_over_max', tx([img(code=b'x' * (256 * 1024 + 1))]), 13, OUTS + 1 + 41 + 1),
    ('template_params_1025', tx([(T(1), 0, b'\x02\x00', w(code=b'x' * 1025))]), 13, OUTS + 2 + 41 + 1),
    ('form_0', tx([(T(1), 0, b'\x00', w())]), 43, IN0),
    ('form_4', tx([(T(1), 0, b'\x04', w())]), 43, IN0),
    ('template_6', tx([(T(1), 0, b'\x02\x06', w(code=b'x'))]), 44, IN0 + 1),
    ('ref_index_1_of_1', tx([ref(1)], refs=[(T(9), 0)]), 46, IN0 + 36 + 1),
    ('no_outputs', tx([img()], []), 31, 'check'),
    ('value_over_supply', tx([img()], [(2100000000000001, T(0xee), b'')]), 34, 'check'),
    ('sum_over_supply', tx([img()], [(2100000000000000, T(0xee), b''), (1, T(0xee), b'')]), 34, 'check'),
    ('template_no_params', tx([(T(1), 0, b'\x02\x00', w(code=b''))]), 45, 'check'),
    ('empty_image', tx([img(code=b'')]), 35, 'check'),
    ('budget_over_max', tx([img(budget=2**32 + 1)]), 36, 'check'),
    ('budgets_sum_over_max', tx([img(budget=2**31), img(i=1, budget=2**31 + 1)]), 36, 'check'),
    ('ref_unused', tx([img()], refs=[(T(9), 0)]), 47, 'check'),
    ('ref_listed_twice', tx([ref(0), ref(1, i=1)], refs=[(T(9), 0), (T(9), 0)]), 48, 'check'),
    ('ref_spent', tx([ref(0)], refs=[(T(1), 0)]), 49, 'check'),
    ('input_twice', tx([img(), img()]), 33, 'check'),
    # the order: the output rules come before the input rules
    ('value_before_witness', tx([img(code=b'')], [(2100000000000001, T(0xee), b'')]), 34, 'check'),
]
if __name__ == '__main__':
    for name, b, code, where in cases:
        open(os.path.join(sys.argv[1], name + '.bin'), 'wb').write(b)
        print(name, code, where)
