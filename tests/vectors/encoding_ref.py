# encoding_ref.py — an independent Python implementation of docs/ENCODING.md.
# Run it in tests/vectors: it writes tx_simple.bin, tx_template.bin, tx_ref.bin,
# block_simple.bin and
# params_default.bin, and prints the hashes pinned in tests/test_ledger.c.
import hashlib, struct
def H(tag, data): return hashlib.blake2b(data, digest_size=32, person=tag.encode()).digest()
def varint(v):
    out=b''
    while v>=0x80: out+=bytes([(v&0x7f)|0x80]); v>>=7
    return out+bytes([v])
def blob(b): return varint(len(b))+b
# An input is (txid, index, budget, code, args): code is the image (bytes,
# witness form 1), a pair (template index, parameters) (form 2) or a triple
# ('ref', reference number, parameters) (form 3). refs: the reference inputs
# (txid, index), listed before the inputs of a transaction that is not a
# coinbase.
def form(code):
    if isinstance(code,bytes): return bytes([1])
    if code[0]=='ref': return bytes([3])+varint(code[1])
    return bytes([2,code[0]])
def witness_code(code): return code if isinstance(code,bytes) else code[-1]
def tx(inputs, outputs, cbh=None, refs=()):
    base=struct.pack('<I',1)+varint(len(inputs))
    if not inputs: base+=struct.pack('<I',cbh)
    else:
        base+=varint(len(refs))
        for (txid,idx) in refs: base+=txid+struct.pack('<I',idx)
    for (txid,idx,_,code,_) in inputs: base+=txid+struct.pack('<I',idx)+form(code)
    base+=varint(len(outputs))
    for (v,pid,d) in outputs: base+=struct.pack('<Q',v)+pid+blob(d)
    wit=b''.join(varint(b)+blob(witness_code(code))+blob(a) for (_,_,b,code,a) in inputs)
    return base, base+wit
idb=bytes(0xff-i for i in range(32))
base,full=tx([(bytes(range(32)),1,1000,bytes([0x13,5,0,0,0x73,0,0,0]),bytes([1,2,3]))],[(4000,idb,b'hi'),(600,idb,b'')])
open('tx_simple.bin','wb').write(full)
txid=H('utxo.txid',base); wtxid=H('utxo.wtxid',full)
print('TXID',txid.hex()); print('WTXID',wtxid.hex())
print('SIGHASH',H('utxo.sighash',b'\xc0'*32+txid).hex())
# a pay-to-pubkey spend by template (form 2): template 0, key aa..aa, signature 55..55
tbase,tfull=tx([(bytes(range(32)),2,26624,(0,b'\xaa'*32),b'\x55'*64)],[(4000,idb,b'')])
open('tx_template.bin','wb').write(tfull)
print('TEMPLATE_TXID',H('utxo.txid',tbase).hex()); print('TEMPLATE_WTXID',H('utxo.wtxid',tfull).hex())
# two inputs spent by reference to one code output (form 3): reference 0 is
# output 7 of txid cc..cc; input 0 with parameters 01 02, input 1 with none
rbase,rfull=tx([(bytes(range(32)),3,5000,('ref',0,b'\x01\x02'),b'\x09'),
                (bytes(range(32)),4,70000,('ref',0,b''),b'')],[(4000,idb,b'')],
               refs=[(b'\xcc'*32,7)])
open('tx_ref.bin','wb').write(rfull)
print('REF_TXID',H('utxo.txid',rbase).hex()); print('REF_WTXID',H('utxo.wtxid',rfull).hex())
cbbase,cbfull=tx([],[(50,b'\xcb'*32,b'')],cbh=1)
leaves=[H('utxo.txleaf',H('utxo.wtxid',cbfull)),H('utxo.txleaf',wtxid)]
root=H('utxo.txroot',struct.pack('<I',2)+H('utxo.txnode',leaves[0]+leaves[1]))
print('TXROOT',root.hex())
hdr=struct.pack('<II',1,1)+b'\x11'*32+struct.pack('<Q',1700000000)+root+b'\x22'*32
print('BLOCKHASH',H('utxo.block',hdr).hex())
blk=hdr+b'\0'*64+varint(2)+blob(cbfull)+blob(full)
open('./block_simple.bin','wb').write(blk)
params=struct.pack('<I',1)+b'\0'*32+struct.pack('<IIIIIIII',1<<20,8<<20,10000,1024,1024,4096,256<<10,64<<10)+struct.pack('<QQQQQ',1<<32,1<<36,1,1,0)
assert len(params)==108
open('./params_default.bin','wb').write(params)
print('CHAIN_ID',H('utxo.chain',params).hex())
