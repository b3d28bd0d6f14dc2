// The sample SMART app: the standalone and EHR launches of SMART App Launch
// 2.2 as a public client, with PKCE S256 (WebCrypto), then a FHIR read and a
// refresh. No library, no build step.
'use strict';

const $ = (id) => document.getElementById(id);
const launchKey = 'smartapp:launch'; // sessionStorage: the launch in progress
let config = null; // config.json: clientId, redirectUri, fhirBaseUrl, scopes
let session = null; // the tokens and where to use them, in memory only

function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes) {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  return base64url(b);
}

// s256 is the PKCE S256 code_challenge of a verifier (RFC 7636 §4.2).
async function s256(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function status(text) { $('status').textContent = text; }

function fail(err) {
  $('error').hidden = false;
  $('error').textContent = String(err && err.message ? err.message : err);
  status('Stopped.');
}

async function getJSON(url, accessToken) {
  const headers = { Accept: 'application/fhir+json, application/json' };
  if (accessToken) headers.Authorization = 'Bearer ' + accessToken;
  const resp = await fetch(url, { headers });
  if (!resp.ok) throw new Error(`GET ${url}: ${resp.status}`);
  return resp.json();
}

// tokenRequest posts a token request (a public client: client_id only).
async function tokenRequest(endpoint, params) {
  const resp = await fetch(endpoint, {
    method: 'POST',
    headers: { Accept: 'application/json' },
    body: new URLSearchParams(params),
  });
  const body = await resp.json();
  if (!resp.ok) throw new Error(`token endpoint: ${body.error}: ${body.error_description || ''}`);
  return body;
}

// authorize sends the browser to the authorization endpoint of the FHIR
// server iss; launch is the EHR's launch value, or '' for a standalone
// launch.
async function authorize(iss, launch) {
  iss = iss.replace(/\/+$/, '');
  status('Reading the SMART configuration of ' + iss + '…');
  const smart = await getJSON(iss + '/.well-known/smart-configuration');
  if (!(smart.code_challenge_methods_supported || []).includes('S256')) throw new Error('the server does not support PKCE S256');
  const verifier = randomString(32);
  const state = randomString(32);
  sessionStorage.setItem(launchKey, JSON.stringify({
    state, verifier, iss, launch: launch ? 'EHR' : 'standalone',
    tokenEndpoint: smart.token_endpoint, issuer: smart.issuer || '',
  }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: launch ? config.ehrScope : config.standaloneScope,
    state,
    aud: iss,
    code_challenge: await s256(verifier),
    code_challenge_method: 'S256',
  });
  if (launch) params.set('launch', launch);
  status('Asking for authorization…');
  location.assign(smart.authorization_endpoint + '?' + params);
}

// callback takes the answer at the redirect URI and exchanges the code.
async function callback(params) {
  const saved = JSON.parse(sessionStorage.getItem(launchKey) || 'null');
  sessionStorage.removeItem(launchKey);
  history.replaceState(null, '', location.pathname); // the code leaves the address bar
  if (!saved || params.get('state') !== saved.state) throw new Error('state mismatch: this answer is not for a launch of this app');
  if (saved.issuer && params.has('iss') && params.get('iss') !== saved.issuer) throw new Error('the answer comes from another authorization server (iss)');
  if (params.has('error')) throw new Error(`authorization refused: ${params.get('error')}: ${params.get('error_description') || ''}`);
  status('Exchanging the code…');
  const tokens = await tokenRequest(saved.tokenEndpoint, {
    grant_type: 'authorization_code',
    code: params.get('code'),
    redirect_uri: config.redirectUri,
    code_verifier: saved.verifier,
    client_id: config.clientId,
  });
  session = { iss: saved.iss, tokenEndpoint: saved.tokenEndpoint, launch: saved.launch, tokens };
  await show();
}

// idTokenUser returns the fhirUser of an ID token, for display only (the
// app does not rely on it, so it does not verify it).
function idTokenUser(idToken) {
  if (!idToken) return '';
  try {
    const payload = JSON.parse(atob(idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return payload.fhirUser || payload.sub || '';
  } catch (e) {
    return '';
  }
}

function humanName(patient) {
  const n = (patient.name || [])[0] || {};
  return [...(n.given || []), n.family || ''].join(' ').trim() || patient.id;
}

function describe(obs) {
  const code = obs.code || {};
  const what = code.text || ((code.coding || [])[0] || {}).display || 'Observation';
  const q = obs.valueQuantity;
  return q ? `${what}: ${q.value} ${q.unit || q.code || ''}`.trim() : what;
}

// show reads the patient in context and their observations.
async function show() {
  const t = session.tokens;
  if (!t.patient) throw new Error('no patient in context');
  status('Reading the patient…');
  const patient = await getJSON(`${session.iss}/Patient/${encodeURIComponent(t.patient)}`, t.access_token);
  $('patient-name').textContent = humanName(patient);
  $('patient-details').textContent = [patient.gender, patient.birthDate].filter(Boolean).join(', ');
  status('Reading observations…');
  const bundle = await getJSON(`${session.iss}/Observation?patient=${encodeURIComponent(t.patient)}`, t.access_token);
  const list = $('observations');
  list.replaceChildren();
  for (const e of bundle.entry || []) {
    const li = document.createElement('li');
    li.textContent = describe(e.resource);
    list.append(li);
  }
  if (!list.children.length) list.append(Object.assign(document.createElement('li'), { textContent: 'none' }));
  $('launch-type').textContent = session.launch;
  $('user').textContent = idTokenUser(t.id_token) || '(no ID token)';
  $('scope').textContent = t.scope;
  $('expires').textContent = `${t.expires_in} s`;
  $('has-refresh').textContent = t.refresh_token ? 'yes' : 'no';
  $('refresh').disabled = !t.refresh_token;
  $('start').hidden = true;
  $('context').hidden = false;
  status('Launched.');
}

async function refresh() {
  $('refresh-status').textContent = 'Refreshing…';
  const previous = session.tokens;
  const tokens = await tokenRequest(session.tokenEndpoint, {
    grant_type: 'refresh_token',
    refresh_token: previous.refresh_token,
    client_id: config.clientId,
  });
  session.tokens = tokens;
  const patient = await getJSON(`${session.iss}/Patient/${encodeURIComponent(tokens.patient)}`, tokens.access_token);
  $('expires').textContent = `${tokens.expires_in} s`;
  $('refresh-status').textContent = `Refreshed at ${new Date().toLocaleTimeString()}: a new access token ` +
    `(${tokens.access_token === previous.access_token ? 'unchanged!' : 'different'}) read ${humanName(patient)} again; ` +
    `the refresh token ${tokens.refresh_token && tokens.refresh_token !== previous.refresh_token ? 'rotated' : 'did not rotate'}.`;
}

async function main() {
  config = await getJSON('config.json');
  const params = new URLSearchParams(location.search);
  $('iss').value = params.get('iss') || config.fhirBaseUrl;
  $('launch').addEventListener('click', () => authorize($('iss').value, '').catch(fail));
  $('refresh').addEventListener('click', () => refresh().catch(fail));
  if (params.has('code') || params.has('error')) return callback(params);
  if (params.has('launch')) {
    if (!params.has('iss')) throw new Error('an EHR launch needs iss');
    return authorize(params.get('iss'), params.get('launch'));
  }
  status('Ready: launch the app standalone, or from the sandbox launcher (EHR launch).');
}

main().catch(fail);
