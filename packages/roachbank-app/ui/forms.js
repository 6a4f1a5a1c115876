// How every form and row button behaves: one Idempotency-Key per submission, a visible
// pending state that cannot be submitted twice, and the outcome said next to it, in plain
// words with the API's code, with focus moved there so a keyboard or screen reader follows.

/**
 * One key per submission, kept until that submission gets an answer: a form (or a row's
 * button) is its key's owner, so repeating a request that failed to arrive moves money once.
 */
const keys = new Map();
const keyFor = (owner) => keys.get(owner) ?? keys.set(owner, crypto.randomUUID()).get(owner);

/** Says an outcome in a result element (a `role="status"` beside its form) and moves focus there. */
export function say(result, text, error = null) {
  result.textContent = error?.code ? `${text} (${error.code})` : text;
  result.classList.toggle('error', Boolean(error));
  result.hidden = !text;
  if (text) result.focus();
}

/**
 * Runs `work(key)` once per submission of `form`; its answer (a sentence) or its refusal
 * goes to the form's `.form-result`, then `after()` runs (a refresh). While it runs, the
 * submit button is disabled and says so.
 */
export function onSubmit(form, work, after = async () => {}) {
  const result = form.querySelector('.form-result');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (!button.disabled) await pending(button, () => settle(form, result, work, after));
  });
}

/** A small button for a row (post a hold, reverse a movement) that acts as a form does. */
export function rowAction(label, owner, result, work, after) {
  const button = Object.assign(document.createElement('button'), { type: 'button', textContent: label, className: 'row-action' });
  button.addEventListener('click', async (event) => {
    event.stopPropagation();
    if (!button.disabled) await pending(button, () => settle(owner, result, work, after));
  });
  return button;
}

/** One submission: its work under the owner's key, its outcome said, then `after()`. */
async function settle(owner, result, work, after) {
  try {
    say(result, await work(keyFor(owner)));
    keys.delete(owner);
  } catch (error) {
    // A refusal is an answer too: the next submission is a new request. A request whose
    // outcome is not known (no answer, a 5xx) keeps its key: sending it again lets the
    // journal decide, and cannot move money twice.
    if (error.definite !== false) keys.delete(owner);
    say(result, error.message, error);
    // A refusal may mean the screen is behind (a hold settled elsewhere): read it again.
    if (error.definite) await after().catch(() => {});
    return;
  }
  await after();
}

async function pending(button, run) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = 'Working…';
  try {
    await run();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (button.isConnected) button.textContent = label;
  }
}
