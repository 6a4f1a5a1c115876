// How amounts, ids and times read on screen, and how typed amounts become minor units.

/** Minor units as a person reads them: in the currency's decimals, with its code unless it is XXX (none). */
export function money(amount, { currency = 'XXX', decimals = 0 } = {}) {
  const negative = amount.startsWith('-');
  const digits = (negative ? amount.slice(1) : amount).padStart(decimals + 1, '0');
  const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return `${negative ? '−' : ''}${text}${currency === 'XXX' ? '' : ` ${currency}`}`;
}

/**
 * An amount as typed ("12.5" in a currency of 2 decimals) as minor units ("1250"); a
 * clear error for anything else. No floating point: the digits are moved, not multiplied.
 */
export function minorUnits(text, { decimals = 0, currency = 'XXX' } = {}) {
  const typed = text.trim();
  const match = /^(\d+)(?:\.(\d+))?$/.exec(typed);
  const unit = currency === 'XXX' ? '' : ` ${currency}`;
  if (!match || (match[2] ?? '').length > decimals) {
    throw new Error(
      decimals === 0
        ? `Amount must be a whole number${unit}, got "${typed}".`
        : `Amount must be a number with at most ${decimals} decimals${unit}, got "${typed}".`,
    );
  }
  const minor = `${match[1]}${(match[2] ?? '').padEnd(decimals, '0')}`.replace(/^0+(?=\d)/, '');
  if (minor === '0') throw new Error('Amount must be more than 0.');
  return minor;
}

/** An id's first 8 characters, for where the whole one does not fit. */
export const short = (id) => (id ? id.slice(0, 8) : '');

/** A time in the reader's own zone. */
export const when = (iso) => new Date(iso).toLocaleString();

/** A table cell with text (never markup) and an optional class. */
export function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** An id shortened on screen, whole on hover, and copied whole by its button. */
export function idCell(id, className = '') {
  const td = cell('', className);
  if (!id) return td;
  const code = Object.assign(document.createElement('code'), { textContent: short(id), title: id });
  const copy = Object.assign(document.createElement('button'), {
    type: 'button',
    className: 'copy',
    textContent: 'Copy',
    title: `Copy ${id}`,
  });
  copy.setAttribute('aria-label', `Copy id ${id}`);
  copy.addEventListener('click', (event) => {
    event.stopPropagation();
    navigator.clipboard?.writeText(id).then(
      () => (copy.textContent = 'Copied'),
      () => (copy.textContent = 'Copy failed'),
    );
  });
  td.append(code, ' ', copy);
  return td;
}

/** A row that spans the table and says why it is empty. */
export function emptyRow(columns, text) {
  const row = document.createElement('tr');
  const td = cell(text, 'empty');
  td.colSpan = columns;
  row.append(td);
  return row;
}
