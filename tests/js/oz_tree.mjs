#!/usr/bin/env node
// The reference side of Livepool's Merkle parity tests and benchmark.
//
// Reads one JSON request on stdin, runs it through OpenZeppelin's StandardMerkleTree
// (the library the design names as the source of truth), prints one JSON answer on stdout.
// Leaf encoding is always ["address", "uint256"]; amounts travel as decimal strings.
//
//   {"op":"build","values":[[addr,"amount"],...]}
//       -> {"root","proofs":[[hex,...] per value, input order],"dump","dump_json"}
//          ("proofs": false in the request skips the proofs)
//   {"op":"load","dump":{...}}  or  {"op":"load","dump_json":"..."}
//       -> StandardMerkleTree.load (which validates), then every proof is made and
//          verified: {"root","proofs","verified":n,"dump_json"}
//   {"op":"verify","root":hex,"items":[{"value":[addr,"amount"],"proof":[hex,...]},...]}
//       -> {"results":[bool,...]}
//   {"op":"bench","values":[...],"proof_sample":1000}
//       -> {"root","build_s","proof_sample","proof_s","dump_s"} (OZ's own timings)
//   {"op":"batch","requests":[request,...]} -> {"results":[answer,...]}
//
// A request that OZ refuses answers {"error": message} instead of failing the batch,
// so tests can assert that OZ rejects what Livepool rejects.

import ozMerkleTree from "@openzeppelin/merkle-tree";

const { StandardMerkleTree } = ozMerkleTree;
const ENCODING = ["address", "uint256"];

function allProofs(tree) {
  const proofs = [];
  for (let i = 0; i < tree.length; i++) proofs.push(tree.getProof(i));
  return proofs;
}

function build(req) {
  const tree = StandardMerkleTree.of(req.values, ENCODING);
  const dump = tree.dump();
  const answer = { root: tree.root, dump, dump_json: JSON.stringify(dump) };
  if (req.proofs !== false) answer.proofs = allProofs(tree);
  return answer;
}

function load(req) {
  const dump = req.dump_json !== undefined ? JSON.parse(req.dump_json) : req.dump;
  const tree = StandardMerkleTree.load(dump);
  const proofs = allProofs(tree);
  let verified = 0;
  for (const [i, value] of tree.entries()) {
    if (!StandardMerkleTree.verify(tree.root, ENCODING, value, proofs[i])) {
      throw new Error(`proof ${i} does not verify`);
    }
    verified++;
  }
  return { root: tree.root, proofs, verified, dump_json: JSON.stringify(tree.dump()) };
}

function verify(req) {
  return {
    results: req.items.map(({ value, proof }) =>
      StandardMerkleTree.verify(req.root, ENCODING, value, proof),
    ),
  };
}

function bench(req) {
  let t0 = process.hrtime.bigint();
  const tree = StandardMerkleTree.of(req.values, ENCODING);
  const buildS = Number(process.hrtime.bigint() - t0) / 1e9;
  const sample = Math.min(req.proof_sample ?? 1000, tree.length);
  // Spread the sampled proofs over the whole tree, not only its first leaves.
  const step = tree.length / sample;
  t0 = process.hrtime.bigint();
  for (let k = 0; k < sample; k++) tree.getProof(Math.floor(k * step));
  const proofS = Number(process.hrtime.bigint() - t0) / 1e9;
  t0 = process.hrtime.bigint();
  JSON.stringify(tree.dump());
  const dumpS = Number(process.hrtime.bigint() - t0) / 1e9;
  return { root: tree.root, build_s: buildS, proof_sample: sample, proof_s: proofS, dump_s: dumpS };
}

const OPS = {
  build,
  load,
  verify,
  bench,
  batch: (req) => ({ results: req.requests.map(run) }),
};

function run(req) {
  const op = OPS[req.op];
  if (op === undefined) return { error: `unknown op '${req.op}'` };
  try {
    return op(req);
  } catch (err) {
    return { error: err.message, name: err.name };
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
process.stdout.write(JSON.stringify(run(JSON.parse(Buffer.concat(chunks).toString("utf8")))));
process.stdout.write("\n");
