import mjml from 'mjml';

/** One item that fell to low stock, with the names a reader knows it by. */
export interface LowStockLine {
  skuCode: string;
  skuName: string;
  quantity: number;
  lowStockThreshold: number;
  /** Who made the change: a username, or an id when the read model does not know it. */
  changedBy: string;
  /** Where the item is, in the API: PUBLIC_URL + /api/inventory/stores/<storeId>/items/<skuId>. */
  link: string;
  at: Date;
}

export interface LowStockMail {
  storeName: string;
  lines: readonly LowStockLine[];
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/**
 * Every name in a mail was typed by someone (store, SKU, username): it is escaped before it
 * goes into the mjml, so that a SKU named `<mj-include path="/etc/passwd">` or `<script>` is
 * shown as text and never read as markup.
 */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);

/** Header values: nodemailer encodes them, but a line break typed into a name has no place in a subject. */
const oneLine = (text: string): string => text.replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ').trim();

export function subjectOf(mail: LowStockMail): string {
  const [only] = mail.lines;
  const store = oneLine(mail.storeName);
  if (mail.lines.length === 1 && only) return `Low stock at ${store}: ${oneLine(only.skuCode)} (${only.quantity} left)`;
  return `Low stock at ${store}: ${mail.lines.length} items`;
}

export function textOf(mail: LowStockMail): string {
  const items = mail.lines.map((line) =>
    [
      `${line.skuCode} ${line.skuName}: ${line.quantity} left (low-stock threshold ${line.lowStockThreshold})`,
      `  changed by ${line.changedBy} at ${line.at.toISOString()}`,
      `  ${line.link}`,
    ].join('\n'),
  );
  return [
    `Low stock at ${mail.storeName}`,
    '',
    mail.lines.length === 1 ? 'This item has fallen to its low-stock threshold or below:' : 'These items have fallen to their low-stock threshold or below:',
    '',
    items.join('\n\n'),
    '',
    '-- ',
    footer,
    '',
  ].join('\n');
}

const footer = 'You get this email as a manager or as staff of this store. To stop it: PATCH /api/auth/me {"lowStockEmails": false}.';

function mjmlOf(mail: LowStockMail): string {
  const rows = mail.lines
    .map(
      (line) => `
        <tr style="border-bottom:1px solid #e5e5e5">
          <td style="padding:6px 8px 6px 0"><a href="${escapeHtml(line.link)}">${escapeHtml(line.skuCode)}</a></td>
          <td style="padding:6px 8px">${escapeHtml(line.skuName)}</td>
          <td style="padding:6px 8px;text-align:right"><strong>${line.quantity}</strong></td>
          <td style="padding:6px 8px;text-align:right">${line.lowStockThreshold}</td>
          <td style="padding:6px 0 6px 8px">${escapeHtml(line.changedBy)}</td>
        </tr>`,
    )
    .join('');
  return `<mjml>
  <mj-head>
    <mj-title>${escapeHtml(subjectOf(mail))}</mj-title>
    <mj-attributes><mj-all font-family="Helvetica, Arial, sans-serif" /></mj-attributes>
  </mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-text font-size="20px" font-weight="bold">Low stock at ${escapeHtml(mail.storeName)}</mj-text>
        <mj-text>${mail.lines.length === 1 ? 'This item has fallen to its low-stock threshold or below.' : 'These items have fallen to their low-stock threshold or below.'}</mj-text>
        <mj-table>
          <tr style="text-align:left">
            <th style="padding:6px 8px 6px 0">SKU</th><th style="padding:6px 8px">Name</th>
            <th style="padding:6px 8px;text-align:right">Left</th><th style="padding:6px 8px;text-align:right">Threshold</th>
            <th style="padding:6px 0 6px 8px">Changed by</th>
          </tr>${rows}
        </mj-table>
        <mj-text font-size="12px" color="#777777">${escapeHtml(footer)}</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;
}

/** The subject, the text part and the HTML part (mjml, validated strictly) of one mail. */
export async function renderLowStockMail(mail: LowStockMail): Promise<RenderedMail> {
  if (mail.lines.length === 0) throw new Error('a low-stock mail needs at least one item');
  const { html, errors } = await mjml(mjmlOf(mail), { validationLevel: 'strict', keepComments: false });
  if (errors.length > 0) throw new Error(`low-stock template: ${errors.map((error) => error.formattedMessage).join('; ')}`);
  return { subject: subjectOf(mail), text: textOf(mail), html };
}
