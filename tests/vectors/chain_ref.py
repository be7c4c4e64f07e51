# chain_ref.py — an independent Python reading of a chain directory, written
# from docs/ENCODING.md, docs/ACCUMULATOR.md and docs/STATELESS.md only.
#
#   python3 chain_ref.py DIR [STATEFILE]
#
# reads DIR/blocks and DIR/proofs (the files of 'utxo gen' or 'utxo
# genesis'), decodes every block and transaction as ENCODING.md says, and
# checks: the chain id of the file's parameters; each header's previous hash,
# height, version and tx root; the accumulator digest of each header, from a
# forest kept here (swapless deletes, leaf hash with its position); the
# Ed25519 signature of each block hash (when python3-cryptography is
# installed); that each input's image, built as the documents say for its
# witness form (the committed templates of src/predicates/std/), hashes to
# the id of the output it spends; and that each proof record is, byte for byte, the bundle this
# script builds from the forest (the walk and the encoding of ACCUMULATOR.md,
# the entries of STATELESS.md; receipts are copied, not rebuilt), and that
# every segment receipt decodes as CONTINUATIONS.md section 4 says and
# chains: its pre-state digest, computed from the run id, registers and the
# memory root of its witness pages and multiproof (sections 1 and 2), is the
# previous receipt's post-state digest, and the first one's is the initial
# digest of its input's image and arguments (VM.md section 3). Prints one
# summary line and exits 0, or names the first difference and exits 1.
# With STATEFILE ('utxo verify --state' after the whole chain) it also
# checks that file's bytes. tests/docs_ref.sh runs it on a generated chain.
import hashlib, os, struct, sys

def H(tag, data): return hashlib.blake2b(data, digest_size=32, person=tag.encode()).digest()
ZERO = b'\0' * 32

def fail(msg):
    print('chain_ref: ' + msg); sys.exit(1)

def varint(v):
    out = b''
    while v >= 0x80: out += bytes([(v & 0x7f) | 0x80]); v >>= 7
    return out + bytes([v])

class R:
    def __init__(s, b, what): s.b, s.o, s.what = b, 0, what
    def take(s, n):
        if s.o + n > len(s.b): fail('%s: truncated at %d' % (s.what, s.o))
        x = s.b[s.o:s.o + n]; s.o += n; return x
    def u8(s): return s.take(1)[0]
    def u32(s): return struct.unpack('<I', s.take(4))[0]
    def u64(s): return struct.unpack('<Q', s.take(8))[0]
    def var(s):
        v, sh, start = 0, 0, s.o
        while True:
            c = s.u8(); v |= (c & 0x7f) << sh; sh += 7
            if not c & 0x80: break
        if s.o - start > 1 and c == 0: fail('%s: non-minimal varint at %d' % (s.what, start))
        return v
    def blob(s): return s.take(s.var())
    def end(s):
        if s.o != len(s.b): fail('%s: %d trailing bytes' % (s.what, len(s.b) - s.o))

def decode_tx(b):
    r = R(b, 'tx')
    tx = {'refs': [], 'inputs': [], 'outputs': []}
    if r.u32() != 1: fail('tx version')
    n_in = r.var()
    if n_in == 0: tx['cb_height'] = r.u32()
    else:
        for _ in range(r.var()): tx['refs'].append((r.take(32), r.u32()))
    for _ in range(n_in):
        txid, idx, form = r.take(32), r.u32(), r.u8()
        extra = r.u8() if form == 2 else r.var() if form == 3 else None
        if form not in (1, 2, 3): fail('tx form %d' % form)
        tx['inputs'].append({'prev': (txid, idx), 'form': form, 'extra': extra})
    for _ in range(r.var()): tx['outputs'].append((r.u64(), r.take(32), r.blob()))
    base_len = r.o
    for i in tx['inputs']: i['budget'], i['code'], i['args'] = r.var(), r.blob(), r.blob()
    r.end()
    tx['txid'] = H('utxo.txid', b[:base_len]); tx['wtxid'] = H('utxo.wtxid', b)
    return tx

def tx_root(txs):
    level = [H('utxo.txleaf', t['wtxid']) for t in txs]
    while len(level) > 1:
        nxt = [H('utxo.txnode', level[k] + level[k + 1]) for k in range(0, len(level) - 1, 2)]
        if len(level) % 2: nxt.append(level[-1])
        level = nxt
    return H('utxo.txroot', struct.pack('<I', len(txs)) + level[0])

def records(path, magic):
    b = open(path, 'rb').read()
    if b[:4] != magic or struct.unpack('<I', b[4:8])[0] != 1: fail(path + ': magic or version')
    params, o, out = b[8:116], 116, []
    while o < len(b):
        n = struct.unpack('<I', b[o:o + 4])[0]; out.append(b[o + 4:o + 4 + n]); o += 4 + n
    return params, out

# ---- the forest (ACCUMULATOR.md) ------------------------------------------
class Forest:
    def __init__(s): s.n, s.node = 0, {}
    def exists(s, r, i): return (i + 1) << r <= s.n
    def is_root(s, r, i): return s.exists(r, i) and not s.exists(r + 1, i >> 1)
    @staticmethod
    def parent(l, rr):
        if l == ZERO: return rr
        if rr == ZERO: return l
        return H('utxo.accnode', l + rr)
    def add(s, leaf):
        r, i = 0, s.n; s.n += 1; s.node[(0, i)] = leaf
        while i & 1:
            s.node[(r + 1, i >> 1)] = s.parent(s.node[(r, i - 1)], s.node[(r, i)])
            r, i = r + 1, i >> 1
    def delete(s, pos):
        s.node[(0, pos)] = ZERO; r, i = 0, pos
        while s.exists(r + 1, i >> 1):
            p = i >> 1; s.node[(r + 1, p)] = s.parent(s.node[(r, 2 * p)], s.node[(r, 2 * p + 1)])
            r, i = r + 1, p
    def state(s):
        enc = struct.pack('<Q', s.n)
        for r in range(63, -1, -1):
            if s.n >> r & 1: enc += s.node[(r, (s.n >> r) - 1)]
        return enc
    def digest(s): return H('utxo.accdigest', s.state())
    def proof(s, targets):
        targets = sorted(targets); slots, known, r = [], targets, 0
        while known:
            nxt, k = [], 0
            while k < len(known):
                i = known[k]
                if s.is_root(r, i): k += 1; continue
                if k + 1 < len(known) and known[k + 1] == i ^ 1: k += 2
                else: slots.append(s.node[(r, i ^ 1)]); k += 1
                if not nxt or nxt[-1] != i >> 1: nxt.append(i >> 1)
            known, r = nxt, r + 1
        enc = varint(len(targets))
        if targets:
            enc += varint(targets[0])
            for a, b in zip(targets, targets[1:]): enc += varint(b - a - 1)
        enc += varint(len(slots))
        flags = bytearray((len(slots) + 7) // 8)
        for j, v in enumerate(slots):
            if v == ZERO: flags[j // 8] |= 1 << (j % 8)
        return targets, enc + bytes(flags) + b''.join(v for v in slots if v != ZERO)

# ENCODING.md "Witness forms", PREDICATES.md section 5: an instance is the
# template (or a code output's datum) with one more segment, the parameters
# at 0x10000, first in the table (lowest address) and first in the bytes.
STD = ['p2pk', 'multisig', 'hashlock', 'timelock', 'htlc', 'rsa']
STD_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'src', 'predicates', 'std')
def instance(code, params):
    n = code[5]
    return (code[:5] + bytes([n + 1]) + code[6:10] + struct.pack('<II', 0x10000, len(params)) +
            code[10:10 + 8 * n] + params + code[10 + 8 * n:])
def witness_image(i, tx, utxo):
    if i['form'] == 1: return i['code']
    if i['form'] == 2:
        return instance(open(os.path.join(STD_DIR, STD[i['extra']] + '.img'), 'rb').read(), i['code'])
    datum = utxo[tx['refs'][i['extra']]][2][2]
    return instance(datum, i['code']) if i['code'] else datum

def leaf_hash(pos, op, height, out):
    v, pid, datum = out
    return H('utxo.accleaf', struct.pack('<Q', pos) + op[0] + struct.pack('<II', op[1], height) +
             struct.pack('<Q', v) + pid + varint(len(datum)) + datum)

def entry(target, coin):
    pos, height, (v, pid, datum) = coin
    return varint(target) + varint(height) + struct.pack('<Q', v) + pid + varint(len(datum)) + datum

def receipts_part(bundle):
    # skip everything before the receipts, as the decoder reads it
    r = R(bundle, 'bundle'); r.take(33); n = r.var()
    def skip_proof():
        nt = r.var()
        for _ in range(nt): r.var()
        ns = r.var(); flags = r.take((ns + 7) // 8)
        empty = sum(bin(x).count('1') for x in flags); r.take(32 * (ns - empty)); return nt
    def skip_entries(k):
        for _ in range(k): r.var(); r.var(); r.take(40); r.blob()
    skip_entries(skip_proof())
    nref = r.var()
    if nref: skip_proof(); skip_entries(nref)
    return bundle[r.o:]

E=[b'\0'*32]
for k in range(22): E.append(H('utxo.mem.node',E[-1]+E[-1]))
def parse_receipt(rb):
    # CONTINUATIONS.md section 4, its digests (section 2) and the memory
    # tree and multiproof of section 1: the pre-state digest is computed here
    r=R(rb,'receipt')
    if r.take(4) != b'UTXR' or r.u8() != 1: fail('receipt: magic or version')
    po2=r.u8(); final=r.u8(); idx=r.u32(); pid=r.take(32); budget=r.u64(); plim=r.u32(); alen=r.u32(); args=r.take(alen)
    pc=r.u32(); regs=r.take(124); cycles=r.u64(); touched=r.u32(); n=r.u32()
    pages=[r.u32() for _ in range(n)]
    if pages != sorted(set(pages)) or not all(64 <= p < 2**22 for p in pages): fail('receipt: page numbers')
    bm=r.take((n+7)//8); present=[bool(bm[i//8]>>(i%8)&1) for i in range(n)]
    if n % 8 and bm[-1] >> (n % 8): fail('receipt: bitmap padding')
    leaves={}
    for p,pr in zip(pages,present):
        leaves[p]=H('utxo.mem.page',r.take(1024)) if pr else b'\0'*32
    # multiproof: count siblings by the walk
    known=sorted(leaves); vals=dict(leaves); sl=[]  # (level,index) of siblings
    lvl=0; nodes={(0,p):v for p,v in leaves.items()}
    cur=known
    while lvl<22:
        nxt=[]; k=0
        while k<len(cur):
            i=cur[k]
            if k+1<len(cur) and cur[k+1]==i^1: k+=2
            else: sl.append((lvl,i^1)); k+=1
            if not nxt or nxt[-1]!=i>>1: nxt.append(i>>1)
        cur=nxt; lvl+=1
    if not known: sl=[(22,0)]
    K=len(sl); eb=r.take((K+7)//8)
    if K % 8 and eb[-1] >> (K % 8): fail('receipt: multiproof padding')
    sib={}
    for j,(l,i) in enumerate(sl):
        sib[(l,i)]=E[l] if eb[j//8]>>(j%8)&1 else r.take(32)
        if not (eb[j//8]>>(j%8)&1) and sib[(l,i)] == E[l]: fail('receipt: an empty sibling sent as a hash')
    if not known: root=sib[(22,0)]
    else:
        cur=dict(nodes)
        for l in range(22):
            nxt={}
            for (ll,i),v in cur.items():
                p=i>>1
                if p in nxt: continue
                left=cur.get((l,2*p), sib.get((l,2*p))); right=cur.get((l,2*p+1), sib.get((l,2*p+1)))
                nxt[p]=H('utxo.mem.node',left+right)
            cur={(l+1,p):v for p,v in nxt.items()}
        root=cur[(22,0)]
    post=r.take(32)
    outcome=r.take(18) if final else b''
    r.end()
    runid=H('utxo.seg.run',pid+struct.pack('<QIBI',budget,plim,po2,alen)+args)
    pre=H('utxo.seg.state',runid+struct.pack('<I',pc)+regs+root+struct.pack('<QII',cycles,touched,idx))
    return dict(idx=idx,final=final,pre=pre,post=post,cycles=cycles,runid=runid)
def initial_digest(image, args, first):
    # CONTINUATIONS.md section 2: the state after loading the image's
    # segments and the arguments (VM.md section 3): a0 = args_len, a1 =
    # 0x80000000, sp = 0x7ffffff0, memory root over the pages they fill
    pages = {}
    def put(addr, data):
        for k, byte in enumerate(data):
            pg = (addr + k) >> 10
            pages.setdefault(pg, bytearray(1024))[(addr + k) & 1023] = byte
    n, entry = image[5], struct.unpack_from('<I', image, 6)[0]
    o = 10 + 8 * n
    for k in range(n):
        va, ln = struct.unpack_from('<II', image, 10 + 8 * k)
        put(va, image[o:o + ln]); o += ln
    put(0x80000000, args)
    level = {p: H('utxo.mem.page', bytes(v)) for p, v in pages.items()}
    for l in range(22):
        level = {p: H('utxo.mem.node', level.get(2 * p, E[l]) + level.get(2 * p + 1, E[l]))
                 for p in {q >> 1 for q in level}}
    regs = bytearray(124)
    struct.pack_into('<I', regs, 4 * (2 - 1), 0x7ffffff0)
    struct.pack_into('<I', regs, 4 * (10 - 1), len(args))
    struct.pack_into('<I', regs, 4 * (11 - 1), 0x80000000)
    return H('utxo.seg.state', first['runid'] + struct.pack('<I', entry) + bytes(regs) +
             level[0] + struct.pack('<QII', 0, len(pages), 0))

def receipt_chains(bun):
    rest=receipts_part(bun); r=R(rest,'receipts'); out=[]
    for _ in range(r.var()):
        t=r.var(); i=r.var(); out.append((t,i,[r.blob() for _ in range(r.var())]))
    r.end(); return out

def main(d):
    params, blocks = records(d + '/blocks', b'uxbk')
    pparams, bundles = records(d + '/proofs', b'uxbp')
    if pparams != params or len(params) != 108: fail('parameters differ between the files')
    if len(bundles) != len(blocks): fail('%d blocks, %d bundles' % (len(blocks), len(bundles)))
    seqkey = params[4:36]
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        verify = Ed25519PublicKey.from_public_bytes(seqkey).verify
    except ImportError:
        verify = None
    forest, utxo, prev, n_tx, n_in = Forest(), {}, ZERO, 0, 0
    forms, n_refs, n_rcpt, n_seg = [0, 0, 0], 0, 0, 0
    for h, (blk, bun) in enumerate(zip(blocks, bundles)):
        hdr = blk[:176]
        ver, height = struct.unpack('<II', hdr[:8])
        if ver != 1 or height != h: fail('block %d: version %d height %d' % (h, ver, height))
        if hdr[8:40] != prev: fail('block %d: previous hash' % h)
        bhash = H('utxo.block', hdr[:112])
        if verify:
            try: verify(hdr[112:176], bhash)
            except Exception: fail('block %d: signature' % h)
        r = R(blk, 'block %d' % h); r.take(176)
        txs = [decode_tx(r.blob()) for _ in range(r.var())]
        r.end()
        if tx_root(txs) != hdr[48:80]: fail('block %d: tx root' % h)
        # block order (STATELESS.md): external spends, in-block spends, appends
        made = {}
        for t in txs:
            for j, o in enumerate(t['outputs']): made[(t['txid'], j)] = o
        spent_here = {i['prev'] for t in txs for i in t['inputs']}
        ext = [i['prev'] for t in txs for i in t['inputs'] if i['prev'] not in made]
        refs = []
        for t in txs:
            for op in t['refs']:
                if op not in refs: refs.append(op)
        for op in ext + refs:
            if op not in utxo: fail('block %d: spends or reads an unknown output' % h)
        for t in txs:
            for k, i in enumerate(t['inputs']):
                spent = made[i['prev']] if i['prev'] in made else utxo[i['prev']][2]
                if H('utxo.predicate', witness_image(i, t, utxo)) != spent[1]:
                    fail('block %d: an input of form %d: its image does not hash to the spent id' % (h, i['form']))
        targets, pbytes = forest.proof([utxo[op][0] for op in ext])
        want = b'\x01' + bhash + varint(forest.n) + pbytes
        want += b''.join(entry(targets.index(utxo[op][0]), utxo[op]) for op in ext)
        want += varint(len(refs))
        if refs:
            rt, rbytes = forest.proof([utxo[op][0] for op in refs])
            want += rbytes + b''.join(entry(rt.index(utxo[op][0]), utxo[op]) for op in refs)
        want += receipts_part(bun)
        n_refs += len(refs); n_rcpt += receipts_part(bun) != b'\0'
        for t, k, chain in receipt_chains(bun):
            rs = [parse_receipt(x) for x in chain]
            i = txs[t]['inputs'][k]
            if rs[0]['pre'] != initial_digest(witness_image(i, txs[t], utxo), i['args'], rs[0]):
                fail('block %d: the first receipt does not start at the initial digest' % h)
            if ([x['idx'] for x in rs] != list(range(len(rs))) or not rs[-1]['final'] or
                    any(x['final'] for x in rs[:-1])):
                fail('block %d: a receipt chain out of order' % h)
            if any(a['post'] != b['pre'] for a, b in zip(rs, rs[1:])):
                fail('block %d: a receipt\'s pre-state digest is not the previous post-state digest' % h)
            n_seg += len(rs)
        for t in txs:
            for i in t['inputs']: forms[i['form'] - 1] += 1
        if want != bun:
            k = next((k for k in range(min(len(want), len(bun))) if want[k] != bun[k]), min(len(want), len(bun)))
            fail('block %d: bundle differs from the documented one at byte %d (%d bytes, documented %d)' % (h, k, len(bun), len(want)))
        for op in ext:
            pos, ch, out = utxo.pop(op)
            if forest.node[(0, pos)] != leaf_hash(pos, op, ch, out): fail('block %d: leaf hash' % h)
            forest.delete(pos)
        for t in txs:
            for j, o in enumerate(t['outputs']):
                op = (t['txid'], j)
                if op in spent_here: continue
                utxo[op] = (forest.n, h, o); forest.add(leaf_hash(forest.n, op, h, o))
        if forest.digest() != hdr[80:112]: fail('block %d: accumulator digest' % h)
        prev, n_tx, n_in = bhash, n_tx + len(txs), n_in + sum(len(t['inputs']) for t in txs)
    if len(sys.argv) > 2:
        # STATELESS.md "Validator state" and "Validator state file"
        st = (b'uxvs\x01' + H('utxo.chain', params) + struct.pack('<I', len(blocks)) + prev +
              struct.pack('<Q', struct.unpack_from('<Q', blocks[-1], 40)[0]) + forest.state())
        f = b'uxvf' + struct.pack('<II', 1, len(st)) + st
        if open(sys.argv[2], 'rb').read() != f + H('utxo.statefile', f):
            fail('%s is not the documented state file of the tip' % sys.argv[2])
    print('chain_ref: chain %s: %d blocks, %d transactions, %d inputs, %d leaves, %d unspent; '
          'inputs of form 1/2/3: %d/%d/%d, %d references, %d blocks with receipts (%d receipts); '
          'headers, tx roots, digests%s and bundles as documented' %
          (H('utxo.chain', params).hex(), len(blocks), n_tx, n_in, forest.n, len(utxo),
           forms[0], forms[1], forms[2], n_refs, n_rcpt, n_seg, ', signatures' if verify else ''))

if __name__ == '__main__':
    main(sys.argv[1])
