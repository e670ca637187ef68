/** Types for markdown.js: the playground page loads it as plain JavaScript; the card tests render with it too. */
export declare function renderMarkdown(text: string): string;
