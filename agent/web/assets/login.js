// ferry agent login: asks for the token once, keeps it in localStorage
// and in the ferry_token cookie the server reads, then reloads the page.
// A token kept from before is tried first, without asking.
'use strict';
(function () {
  const form = document.getElementById('login');
  const input = document.getElementById('token');
  const error = document.getElementById('login-error');
  const key = 'ferry-token';

  async function tryToken(token) {
    const r = await fetch('/api/jobs', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
    if (r.status === 401) return false;
    if (!r.ok) throw new Error('HTTP ' + r.status);
    localStorage.setItem(key, token);
    document.cookie = 'ferry_token=' + encodeURIComponent(token) + '; Path=/; SameSite=Strict; Max-Age=31536000';
    location.reload();
    return true;
  }

  function fail(text) {
    error.textContent = text;
    error.hidden = false;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      if (!(await tryToken(input.value.trim()))) fail('Wrong token.');
    } catch (err) {
      fail('Cannot reach the agent: ' + err.message);
    }
  });

  const kept = localStorage.getItem(key);
  if (kept) {
    tryToken(kept).then((ok) => { if (!ok) localStorage.removeItem(key); }, () => {});
  }
  input.focus();
})();
