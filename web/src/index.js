// The mint page: prompt → picture (the same Rust, as wasm, on the main thread: < 1 ms) →
// wallet (EIP-1193 through viem) → proof (the prover Web Worker) → mint → the token as its
// on-chain tokenURI renders it, and a gallery read from the chain. The prompt, the secret seed
// and the latent stay in this page (and its local store); the chain sees the picture, the
// commitment and the proof. The seed is what keeps the prompt private: without it, anyone
// could try a dictionary of prompts against a public picture.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  custom,
  decodeErrorResult,
  getAddress,
  http,
  keccak256,
  toHex,
} from 'viem';
import css from './style.css';
import { decodeTokenUri } from './token.js';

document.head.append(Object.assign(document.createElement('style'), { textContent: css }));
const $ = (id) => document.getElementById(id);

const state = { model: null, manifest: null, deployment: null, account: null, chainOk: false, proof: null, seed: null, wasm: null, setupPhase: null, proving: false };

/// The proof without the secrets that made it.
const publicProof = ({ prompt, seed, ...rest }) => rest;

// What the end-to-end test and curious artists can read from the console: never the prompt
// or the seed (any script on the page, an extension say, can read a global).
window.section9 = Object.defineProperties({}, {
  model: { get: () => Boolean(state.model), enumerable: true },
  account: { get: () => state.account, enumerable: true },
  chainOk: { get: () => state.chainOk, enumerable: true },
  prover: { get: () => state.prover, enumerable: true },
  proof: { get: () => (state.proof ? publicProof(state.proof) : null), set: (v) => { if (v === null) state.proof = null; }, enumerable: true },
  minted: { get: () => state.minted, set: (v) => { state.minted = v; }, enumerable: true },
  mintable: { get: () => Boolean(state.deployment) && !state.deploymentProblem, enumerable: true },
});

// ---------------------------------------------------------------- messages

function say(text, ok = false) {
  const m = $('message');
  m.textContent = text;
  m.className = ok ? 'ok' : '';
  m.hidden = !text;
}

/// A wallet or chain error in words an artist can act on.
function explain(e, abi) {
  const walk = (pred) => (e instanceof BaseError ? e.walk(pred) : pred(e) ? e : null);
  if (walk((x) => x?.code === 4001)) return 'You rejected the request in your wallet.';
  if (walk((x) => x?.code === 4902)) return 'Your wallet does not know this network yet.';
  const reverted = walk((x) => x instanceof ContractFunctionRevertedError);
  let name = reverted?.data?.errorName;
  let args = reverted?.data?.args;
  const raw = /return data: (0x[0-9a-fA-F]+)/.exec(e?.message ?? '')?.[1] ?? reverted?.raw;
  if (!name && raw && abi) {
    try {
      ({ errorName: name, args } = decodeErrorResult({ abi, data: raw }));
    } catch { /* not one of ours */ }
  }
  switch (name) {
    case 'AlreadyMinted': return `This picture was already minted, as token #${args[0]}.`;
    case 'InvalidProof': return state.manifest?.weights === 'committed'
      ? 'The contract refused the proof (made for another account, or for weights other than the ones it registered?).'
      : 'The contract refused the proof (was it made for another account?).';
    case 'WrongImageSize': return 'The contract refused the picture size.';
    case 'CommitmentOutOfField': return 'The commitment is not a field element.';
    default: return e?.shortMessage ?? e?.message ?? String(e);
  }
}

// ---------------------------------------------------------------- the picture

async function loadWasm() {
  // The main thread only runs inference: it loads the same module as the worker (from the
  // browser's cache) and never starts threads.
  const threaded = self.crossOriginIsolated === true;
  const wasm = threaded ? await import('../../pkg/threads/section9.js') : await import('../../pkg/single/section9.js');
  await wasm.default();
  return wasm;
}

/// Draws an RGB8 row-major picture of the collection's size (the canvas takes its size; CSS
/// scales it up).
function draw(rgb, width = state.picture?.width ?? 32, height = state.picture?.height ?? 32) {
  const canvas = $('art');
  if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) image.data.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
  ctx.putImageData(image, 0, 0);
}

function currentPicture() {
  return state.model.generate($('prompt').value, state.seed);
}

/// Which of the prompt's words the model knows: they choose what the picture shows; the secret
/// seed chooses the variation.
function showWords(prompt) {
  const known = [...new Set(state.model.knownWords(prompt))];
  $('words-line').textContent = known.length
    ? `Steered by: ${known.join(', ')}.`
    : prompt.trim() ? 'No word here that the model knows: the picture is free.' : '';
}

function onPrompt() {
  const picture = currentPicture();
  state.picture = picture;
  draw(picture.rgb, picture.width, picture.height);
  showWords($('prompt').value);
  if (state.proof && (state.proof.prompt !== $('prompt').value || state.proof.seed !== state.seed)) {
    state.proof = null;
    $('mint').disabled = true;
    $('prove-status').textContent = 'The picture changed: prove again.';
    setBar(0);
  }
  refreshButtons();
}

/// The same prompt, another secret seed: another picture.
function anotherVariation() {
  if (!state.wasm) return;
  state.seed = state.wasm.randomSeed();
  onPrompt();
}

// ---------------------------------------------------------------- the prover worker

const worker = new Worker(new URL('./prover.worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;
const progressListeners = new Set();
worker.onmessage = ({ data }) => {
  if (data.type === 'progress') return progressListeners.forEach((f) => f(data));
  const p = pending.get(data.id);
  pending.delete(data.id);
  if (data.ok) p.resolve(data.result);
  else p.reject(new Error(data.error));
};
worker.onerror = (e) => say(`The prover worker failed: ${e.message}`);
function ask(type, body = {}) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, type, ...body });
  });
}

/// What the prover's setup is doing, for the status line (null for phases not worth a word).
function setupPhase(phase) {
  switch (phase) {
    case 'download':
    case 'keys:params':
      return 'Reading the proving parameters';
    case 'cache:read':
    case 'keys:cache':
      return 'Loading the cached proving key';
    case 'keys:keygen':
      return 'Generating the proving key (once on this browser)';
    case 'cache:store':
      return 'Keeping the proving key for your next visit';
    default:
      return null;
  }
}

/// One line on where the proving key came from, once the prover is ready.
function keyLine(info) {
  if (info.keySource === 'cache') return `Prover ready: proving key loaded from this browser's cache in ${((info.cacheReadMs + info.keyLoadMs) / 1000).toFixed(1)} s.`;
  const kept = info.keyStored ? ' and kept in this browser for next time' : ' (this browser would not keep it: it is generated again next visit)';
  return `Prover ready: proving key generated in ${(info.keygenMs / 1000).toFixed(1)} s${kept}.`;
}

function setBar(fraction) {
  $('bar').style.transform = `scaleX(${Math.min(1, Math.max(0, fraction)).toFixed(3)})`;
}

async function prove() {
  if (state.manifest?.weights === 'committed' && !state.artistModel) return say(state.deploymentProblem);
  if (!state.account) return say('Connect your wallet first: the proof names the account that may mint.');
  const prompt = $('prompt').value;
  const seed = state.seed;
  if (!prompt) return say('Type a prompt first.');
  say('');
  $('prove').disabled = true;
  $('mint').disabled = true;
  const started = performance.now();
  // The bar follows the last proof's duration on this machine (an estimate: halo2 reports no
  // progress from inside the prover); the phase and the elapsed time are exact.
  const estimate = Number(localStorage.getItem('section9.proveMs')) || 15000;
  let phase = state.setupPhase ?? 'Preparing the prover (once per session)';
  let provingSince = started;
  const listener = ({ phase: p }) => {
    if (p === 'proving') {
      phase = 'Proving';
      provingSince = performance.now();
    } else {
      phase = setupPhase(p) ?? phase;
    }
  };
  progressListeners.add(listener);
  state.proving = true;
  // Four updates a second: every repaint is CPU time the prover's threads do not get.
  const timer = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    $('prove-status').textContent = `${phase}… ${s.toFixed(1)} s`;
    if (phase === 'Proving') setBar(0.05 + (0.9 * (performance.now() - provingSince)) / estimate);
  }, 250);
  try {
    state.prover = await ask('init');
    const result = await ask('prove', { prompt, seed, minter: state.account });
    if (!result.verified) throw new Error('the proof does not verify');
    localStorage.setItem('section9.proveMs', String(Math.round(result.prove_ms)));
    state.proof = { ...result, prompt, seed };
    keepSecret({ prompt, seed, commitment: result.commitment, minter: result.minter, modelId: state.manifest.model_id });
    setBar(1);
    const threads = state.prover.threaded ? `${state.prover.threads} threads` : 'one thread (this page is not cross-origin isolated)';
    $('prove-status').textContent = `Proved in ${(result.prove_ms / 1000).toFixed(1)} s on ${threads}; ${(result.proof.length - 2) / 2} bytes.`;
  } catch (e) {
    setBar(0);
    $('prove-status').textContent = 'No proof.';
    say(`Proving failed: ${e.message}`);
  } finally {
    clearInterval(timer);
    progressListeners.delete(listener);
    state.proving = false;
    refreshButtons();
  }
}

// ---------------------------------------------------------------- secrets, kept locally

function secrets() {
  try {
    return JSON.parse(localStorage.getItem('section9.secrets') ?? '[]');
  } catch {
    return [];
  }
}

function keepSecret(entry) {
  const all = secrets().filter((s) => s.commitment !== entry.commitment);
  all.push({ ...entry, savedAt: new Date().toISOString() });
  localStorage.setItem('section9.secrets', JSON.stringify(all));
  $('secret-line').hidden = false;
}

function downloadBackup() {
  const blob = new Blob(
    [JSON.stringify({ note: 'PRIVATE. The prompt and seed behind each commitment: they reproduce the picture, and revealing them proves authorship.', secrets: secrets() }, null, 2)],
    { type: 'application/json' },
  );
  const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: 'section9-secrets.json' });
  a.click();
  URL.revokeObjectURL(a.href);
}

// ---------------------------------------------------------------- wallet and chain

let wallet;
// Any EVM chain: its id, name, currency and RPC come from the deployment file deploy.js wrote.
const chain = () => ({
  id: state.deployment.chainId,
  name: state.deployment.chainName ?? (state.deployment.chainId === 31337 ? 'Section 9 local chain' : `chain ${state.deployment.chainId}`),
  nativeCurrency: state.deployment.nativeCurrency ?? { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [state.deployment.rpcUrl] } },
  ...(state.deployment.explorerUrl ? { blockExplorers: { default: { name: 'explorer', url: state.deployment.explorerUrl } } } : {}),
});
let reader;

async function connect() {
  say('');
  if (!window.ethereum) {
    return say('No wallet found. Install MetaMask (or another EIP-1193 wallet) to mint; generating pictures works without one.');
  }
  if (!state.deployment) return say('No contracts are deployed for this page (static/deployment.json is missing).');
  if (state.deploymentProblem) return say(state.deploymentProblem);
  try {
    wallet = createWalletClient({ chain: chain(), transport: custom(window.ethereum) });
    const [account] = await wallet.requestAddresses();
    state.account = getAddress(account);
    await checkChain();
    window.ethereum.on?.('accountsChanged', (accounts) => {
      state.account = accounts[0] ? getAddress(accounts[0]) : null;
      state.proof = null;
      showAccount();
    });
    window.ethereum.on?.('chainChanged', () => checkChain());
  } catch (e) {
    say(explain(e));
  }
  showAccount();
}

async function checkChain() {
  const id = await wallet.getChainId();
  state.chainOk = id === state.deployment.chainId;
  $('switch').hidden = state.chainOk;
  if (!state.chainOk) say(`Wrong network: your wallet is on chain ${id}; this page mints on chain ${state.deployment.chainId} (${chain().name}).`);
  else say('');
  showAccount();
}

async function switchChain() {
  try {
    await wallet.switchChain({ id: state.deployment.chainId });
  } catch (e) {
    if (!(e instanceof BaseError && e.walk((x) => x?.code === 4902))) return say(explain(e));
    try {
      await wallet.addChain({ chain: chain() });
    } catch (e2) {
      return say(explain(e2));
    }
  }
  await checkChain();
}

function showAccount() {
  $('account').textContent = state.account ? `Connected: ${state.account}${state.chainOk ? '' : ' (wrong network)'}` : 'Not connected.';
  $('connect').textContent = state.account ? 'Reconnect' : 'Connect wallet';
  refreshButtons();
}

function refreshButtons() {
  $('prove').disabled = !state.account || !$('prompt').value || !state.model;
  $('mint').disabled = !(state.proof && !state.deploymentProblem && state.account && state.chainOk && state.proof.minter.toLowerCase() === state.account.toLowerCase());
}

async function mint() {
  say('');
  const { deployment } = state;
  const p = state.proof;
  $('mint').disabled = true;
  try {
    const imageHash = keccak256(p.rgb);
    const existing = await reader.readContract({ address: deployment.art, abi: deployment.abi, functionName: 'tokenOfImage', args: [imageHash] });
    if (existing !== 0n) throw new Error(`This picture was already minted, as token #${existing}.`);
    const packed = await reader.readContract({ address: deployment.art, abi: deployment.abi, functionName: 'pack', args: [toHex(p.rgb)] });
    $('mint-status').textContent = 'Confirm the transaction in your wallet…';
    const hash = await wallet.writeContract({
      account: state.account,
      address: deployment.art,
      abi: deployment.abi,
      functionName: 'mint',
      args: [packed, BigInt(p.commitment), p.proof],
    });
    $('mint-status').textContent = `Sent ${hash.slice(0, 10)}…, waiting for the block…`;
    const receipt = await reader.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`the mint transaction reverted (${hash})`);
    const tokenId = await reader.readContract({ address: deployment.art, abi: deployment.abi, functionName: 'tokenOfImage', args: [imageHash] });
    keepSecret({ prompt: p.prompt, seed: p.seed, commitment: p.commitment, minter: p.minter, modelId: state.manifest.model_id, tokenId: String(tokenId) });
    $('mint-status').textContent = `Minted token #${tokenId} (gas ${receipt.gasUsed}).`;
    await showToken(tokenId);
    say(`Minted: token #${tokenId} is yours.`, true);
    await gallery();
  } catch (e) {
    $('mint-status').textContent = 'Not minted.';
    say(e instanceof BaseError ? explain(e, deployment.abi) : e.message);
    refreshButtons();
  }
}

async function tokenView(tokenId) {
  const uri = await reader.readContract({ address: state.deployment.art, abi: state.deployment.abi, functionName: 'tokenURI', args: [tokenId] });
  return decodeTokenUri(uri);
}

async function showToken(tokenId) {
  const token = await tokenView(tokenId);
  state.minted = { tokenId: String(tokenId), rgb: Array.from(token.rgb) };
  $('token-image').src = token.image;
  $('token-caption').textContent = `${token.name}, rendered from its on-chain tokenURI`;
  $('token').hidden = false;
}

async function gallery() {
  const { deployment } = state;
  const total = await reader.readContract({ address: deployment.art, abi: deployment.abi, functionName: 'totalSupply' });
  const box = $('gallery');
  box.replaceChildren();
  for (let id = total; id >= 1n && id > total - 24n; id--) {
    const token = await tokenView(id);
    const figure = document.createElement('figure');
    figure.append(Object.assign(document.createElement('img'), { src: token.image, alt: token.name }));
    figure.append(Object.assign(document.createElement('figcaption'), { textContent: `#${id}` }));
    box.append(figure);
  }
  if (total === 0n) box.textContent = 'Nothing minted yet.';
}

// ---------------------------------------------------------------- private weights

/// The artist opens the collection's model file: read here, checked against the collection's
/// shape and weight commitment, handed to the prover worker — never sent anywhere.
async function openModel() {
  const file = $('model-file').files?.[0];
  if (!file) return;
  const { manifest } = state;
  let text;
  let model;
  try {
    text = await file.text();
    model = new state.wasm.Model(text);
  } catch (e) {
    return say(`${file.name} is not a model file: ${e.message ?? e}`);
  }
  if (model.shapeId() !== manifest.model_id) {
    return say(`${file.name} is not a model of this collection's shape (${model.shapeId().slice(0, 16)}…, the collection's is ${manifest.model_id.slice(0, 16)}…).`);
  }
  let commitment;
  try {
    commitment = model.weightCommitment();
  } catch (e) {
    return say(`${file.name}: ${e.message ?? e}`);
  }
  if (commitment.toLowerCase() !== String(manifest.weight_commitment).toLowerCase()) {
    return say(`${file.name} holds other weights than this collection's: they commit to ${commitment.slice(0, 18)}…, the collection's to ${String(manifest.weight_commitment).slice(0, 18)}…. Only the collection's own model mints here.`);
  }
  // The contract is the authority: it verifies against the commitment it registered, which the
  // page's files cannot vouch for. Read it before spending a proof on a mint it would refuse.
  const registered = await registeredCommitment();
  if (registered.problem) return say(registered.problem);
  if (registered.value === 0n) {
    return say('The deployed contract registered no weight commitment: it was deployed for a verifier with the weights built in, not for this private collection, and would refuse every proof from this model. Deploy the collection with its own commitment (collection.json\'s weight_commitment).');
  }
  if (registered.value !== null && registered.value !== BigInt(commitment)) {
    return say(`The deployed contract registered weights committed to ${toHex(registered.value, { size: 32 }).slice(0, 18)}…, not this collection's (${commitment.slice(0, 18)}…): it would refuse every proof from this model. Deploy the collection with its own commitment (collection.json's weight_commitment).`);
  }
  Object.assign(state, { model, artistModel: true, proof: null, prover: null });
  state.deploymentProblem = deploymentProblem(manifest, state.deployment);
  say(state.deploymentProblem ?? `${file.name}: the collection's model (weights committed to ${commitment.slice(0, 18)}…). It stays in this page.`, !state.deploymentProblem);
  $('model-line').textContent = $('model-line').textContent.replace(/ · private weights.*$/, ' · private weights: your model file');
  onPrompt();
  const warmup = ({ phase }) => {
    const line = setupPhase(phase);
    if (!state.proving && line) $('prove-status').textContent = `${line}…`;
  };
  progressListeners.add(warmup);
  try {
    state.prover = await ask('init', { model: text });
    if (!state.proving) $('prove-status').textContent = keyLine(state.prover);
  } catch (e) {
    $('prove-status').textContent = 'No prover.';
    say(`The prover could not start: ${e.message}`);
  } finally {
    progressListeners.delete(warmup);
  }
}

/// The weight commitment the deployed contract verifies against (`value`; null without a
/// deployment), or why it cannot be read (`problem`).
async function registeredCommitment() {
  const { deployment } = state;
  if (!deployment || !reader) return { value: null };
  try {
    return { value: await reader.readContract({ address: deployment.art, abi: deployment.abi, functionName: 'weightCommitment' }) };
  } catch (e) {
    return { problem: `Cannot read the collection's contract at ${deployment.rpcUrl} to check its weight commitment: ${e.shortMessage ?? e.message}` };
  }
}

// ---------------------------------------------------------------- start

/// Why the deployed contracts cannot mint this page's pictures, if they cannot: a token bound to
/// another model would refuse every proof (and its gallery is not this model's).
function deploymentProblem(manifest, deployment) {
  if (!deployment) return null;
  const want = `0x${manifest.model_id}`.toLowerCase();
  if (String(deployment.modelId).toLowerCase() !== want) {
    return `This page's model (${want.slice(0, 18)}…) is not the one the deployed contract mints (${String(deployment.modelId).slice(0, 18)}…): export the page and deploy from the same model.`;
  }
  if (deployment.srsFingerprint && manifest.srs_fingerprint && deployment.srsFingerprint.toLowerCase() !== `0x${manifest.srs_fingerprint}`.toLowerCase()) {
    return 'The deployed verifier trusts other proving parameters than this page proves with: export the page and the verifier with the same --params.';
  }
  return null;
}

async function start() {
  $('prompt').addEventListener('input', onPrompt);
  $('connect').addEventListener('click', connect);
  $('switch').addEventListener('click', switchChain);
  $('prove').addEventListener('click', prove);
  $('mint').addEventListener('click', mint);
  $('backup').addEventListener('click', downloadBackup);
  $('variation').addEventListener('click', anotherVariation);
  $('secret-line').hidden = secrets().length === 0;

  const [wasm, model, manifest, deployment] = await Promise.all([
    loadWasm(),
    fetch('static/model.json').then((r) => (r.ok ? r.text() : Promise.reject(new Error('static/model.json is missing')))),
    fetch('static/manifest.json').then((r) => (r.ok ? r.json() : Promise.reject(new Error('static/manifest.json is missing')))),
    fetch('static/deployment.json').then((r) => (r.ok ? r.json() : null)),
  ]);
  Object.assign(state, { wasm, model: new wasm.Model(model), manifest, deployment, seed: wasm.randomSeed() });
  $('dev-warning').hidden = !(manifest.dev_srs || deployment?.devSrs);
  // A collection of private weights: the page has the model's shape only, so it shows the
  // gallery and says who can mint; the artist opens the model file to prove.
  const privateWeights = manifest.weights === 'committed';
  $('model-file-line').hidden = !privateWeights;
  $('model-file').addEventListener('change', openModel);
  state.deploymentProblem = privateWeights
    ? `Only the holder of this collection's model can mint: its weights are private, committed to ${String(manifest.weight_commitment).slice(0, 18)}…. The artist opens the model file to prove.`
    : deploymentProblem(manifest, deployment);
  if (state.deploymentProblem) say(state.deploymentProblem);
  // The collection's name: the one deployed, else the one the collection was made with.
  const name = deployment?.name ?? manifest.collection?.name ?? 'Section 9';
  $('collection-name').textContent = name;
  document.title = `${name} — provable AI art`;
  const size = manifest.picture ? ` · ${manifest.picture.width}×${manifest.picture.height}` : '';
  const shape = privateWeights ? ' · private weights' : '';
  $('model-line').textContent = `${name} · model ${manifest.model_id.slice(0, 16)}…${size} · k = ${manifest.k}${shape}`;
  if (!$('prompt').value) $('prompt').value = 'a quiet robot watering a tiny plant';
  onPrompt();
  // Warm the prover up while the artist types: wasm, threads, params, proving key (from this
  // browser's cache, or generated and then cached). The status line says which, until a proof
  // takes it over.
  const warmup = ({ phase }) => {
    state.setupPhase = setupPhase(phase) ?? state.setupPhase;
    if (!state.proving && state.setupPhase) $('prove-status').textContent = `${state.setupPhase}…`;
  };
  progressListeners.add(warmup);
  (privateWeights ? Promise.reject(new Error('the weights are private')) : ask('init')).then(
    (info) => {
      state.prover = info;
      if (!state.proving) $('prove-status').textContent = keyLine(info);
    },
    (e) => {
      if (!state.proving) $('prove-status').textContent = privateWeights ? 'Only the model\'s holder can prove.' : 'No prover.';
      if (!privateWeights) say(`The prover could not start: ${e.message}`);
    },
  ).finally(() => {
    progressListeners.delete(warmup);
    state.setupPhase = null;
  });
  if (deployment) {
    reader = createPublicClient({ chain: chain(), transport: http(deployment.rpcUrl) });
    gallery().catch((e) => ($('gallery').textContent = `Cannot read the chain at ${deployment.rpcUrl}: ${e.shortMessage ?? e.message}`));
  } else {
    $('gallery').textContent = 'No contracts deployed for this page.';
  }
}

start().catch((e) => say(`The page could not start: ${e.message}`));
