// The Markdown subset Teams renders in bot messages and card TextBlocks: paragraphs, line breaks, bullet and
// numbered lists, **bold**, _italic_ / *italic*, `code` and [links](https://…), and CommonMark backslash escapes
// (`\*` is a literal asterisk). Everything is HTML-escaped first, so text from the bot (or typed by a person) can
// never inject markup.

const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

// CommonMark: a backslash before ASCII punctuation shows that character and lets it format nothing.
const ESCAPED = /\\([!-/:-@[-`{-~])/g;

function inline(text) {
  const escaped = [];
  const codes = [];
  // Escapes, then code spans, are set aside first, so nothing inside them is read as formatting.
  let s = escapeHtml(
    text.replace(ESCAPED, (_, c) => {
      escaped.push(escapeHtml(c));
      return `\u0001${escaped.length - 1}\u0001`;
    }),
  ).replace(/`([^`]+)`/g, (_, c) => {
    codes.push(`<code>${c}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  s = s.replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+|mailto:[^\s)]+)\)/g, (_, label, url) => `<a href="${url}" target="_blank" rel="noopener noreferrer">${label}</a>`);
  s = s.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  s = s.replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
  s = s.replace(/(^|[\s(])_([^_\s][^_]*)_(?=$|[\s).,;:!?])/g, '$1<em>$2</em>');
  // eslint-disable-next-line no-control-regex -- NUL and SOH are the placeholders set aside above
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => codes[Number(i)]).replace(/\u0001(\d+)\u0001/g, (_, i) => escaped[Number(i)]);
}

export function renderMarkdown(text) {
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  const out = [];
  let list = null; // { tag, items }
  let para = [];
  const flushPara = () => {
    if (para.length) out.push(`<p>${para.map(inline).join('<br>')}</p>`);
    para = [];
  };
  const flushList = () => {
    if (list) out.push(`<${list.tag}>${list.items.map((i) => `<li>${inline(i)}</li>`).join('')}</${list.tag}>`);
    list = null;
  };
  for (const line of lines) {
    const bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (bullet || numbered) {
      flushPara();
      const tag = bullet ? 'ul' : 'ol';
      if (!list || list.tag !== tag) {
        flushList();
        list = { tag, items: [] };
      }
      list.items.push((bullet ?? numbered)[1]);
    } else if (line.trim() === '') {
      flushPara();
      flushList();
    } else {
      flushList();
      para.push(line);
    }
  }
  flushPara();
  flushList();
  return out.join('');
}
