# store_ref.py — a store's tables against docs/STORE.md, read independently.
#
#   python3 store_ref.py DIR DB
#
# replays DIR/blocks as docs/STATELESS.md ("Block order") says, with the
# forest and leaf hashes of chain_ref.py, and checks DB (the store 'utxo
# replay' made from it) row by row: meta, blocks, utxos (big-endian index in
# the key), nodes (row << 56 | index, non-empty nodes only), undo records
# (STORE.md's layout, block input order) and the transaction index.
# Prints one line and exits 0, or names the first difference and exits 1.
import os, sqlite3, struct, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chain_ref import Forest, H, R, ZERO, decode_tx, fail, leaf_hash, records, varint

def main(d, path):
    params, blocks = records(d + '/blocks', b'uxbk')
    db = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
    undo = dict(db.execute('select height, data from undo'))
    txindex = {bytes(t): (h, i) for t, h, i in db.execute('select txid, height, idx from txs')}
    f, utxo, n_txs = Forest(), {}, 0
    for h, blk in enumerate(blocks):
        r = R(blk, 'block %d' % h); r.take(176)
        txs = [decode_tx(r.blob()) for _ in range(r.var())]
        row = db.execute('select hash, header, body, leaf_count, n_txs from blocks where height = ?',
                         (h,)).fetchone()
        if row is None or (bytes(row[0]), bytes(row[1]), bytes(row[2]), row[3], row[4]) != \
                (H('utxo.block', blk[:112]), blk[:176], blk[176:], f.n, len(txs)):
            fail('blocks: row %d' % h)
        made = {(t['txid'], j) for t in txs for j in range(len(t['outputs']))}
        spent = {i['prev'] for t in txs for i in t['inputs']}
        ext = [i['prev'] for t in txs for i in t['inputs'] if i['prev'] not in made]
        rec = varint(len(ext))
        for op in ext:
            pos, ch, (v, pid, datum) = utxo[op]
            rec += (op[0] + struct.pack('<I', op[1]) + varint(pos) + varint(ch) +
                    struct.pack('<Q', v) + pid + varint(len(datum)) + datum)
        if h in undo and bytes(undo[h]) != rec: fail('undo: record of block %d' % h)
        for k, t in enumerate(txs):
            if txindex.get(t['txid']) != (h, k): fail('txs: transaction %d of block %d' % (k, h))
        for op in ext: f.delete(utxo.pop(op)[0])
        for t in txs:
            for j, o in enumerate(t['outputs']):
                if (t['txid'], j) not in spent:
                    utxo[(t['txid'], j)] = (f.n, h, o); f.add(leaf_hash(f.n, (t['txid'], j), h, o))
        n_txs += len(txs)
    rows = {bytes(k): (v, bytes(p), bytes(dt), ch, pos) for k, v, p, dt, ch, pos in
            db.execute('select outpoint, value, predicate, datum, height, position from utxos')}
    if rows != {op[0] + struct.pack('>I', op[1]): (o[0], o[1], o[2], h, pos)
                for op, (pos, h, o) in utxo.items()}:
        fail('utxos: the rows are not the unspent set')
    if dict((k, bytes(v)) for k, v in db.execute('select key, hash from nodes')) != \
            {(r << 56) | i: v for (r, i), v in f.node.items() if v != ZERO}:
        fail('nodes: the rows are not the non-empty nodes of the forest')
    m = db.execute('select schema_version, params, n_blocks, tip_hash, tip_time, acc_state, '
                   'acc_digest, n_utxos, total_value, n_txs from meta where id = 0').fetchone()
    want = (2, params, len(blocks), H('utxo.block', blocks[-1][:112]),
            struct.unpack_from('<Q', blocks[-1], 40)[0], f.state(), f.digest(), len(utxo),
            sum(o[0] for _, _, o in utxo.values()), n_txs)
    if tuple(bytes(x) if isinstance(x, bytes) else x for x in m) != want: fail('meta: the row')
    print('store_ref: %d blocks, %d unspent, %d nodes, %d undo records as documented' %
          (len(blocks), len(utxo), sum(1 for v in f.node.values() if v != ZERO), len(undo)))

if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
