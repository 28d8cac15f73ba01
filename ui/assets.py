"""The page's CSS and the small script that makes ``[n]`` markers scroll to their source.

Both are injected by the sources panel (``gr.HTML(head=..., js_on_load=...)``)
so that ``build_app`` alone gives a complete page, however it is launched.
"""

CSS = """
<style id="rag-ui-css">
.gradio-container { max-width: 1280px !important; margin-left: auto !important;
  margin-right: auto !important; }
#status-banner .html-container, #status-banner .prose { padding: 0 !important; }
#rag-title h1 { margin-bottom: 0; font-size: 1.6rem; }
#rag-title p { margin-top: 2px; color: var(--body-text-color-subdued); }

.status-banner { border-radius: 8px; padding: 8px 12px; font-size: 0.92rem; line-height: 1.4;
  border: 1px solid transparent; }
.status-ok { background: #ecfdf5; color: #065f46; border-color: #a7f3d0; }
.status-warn { background: #fffbeb; color: #92400e; border-color: #fde68a; }
.status-error { background: #fef2f2; color: #991b1b; border-color: #fecaca; }
.status-sub { font-size: 0.82rem; opacity: 0.9; margin-top: 2px; overflow-wrap: anywhere; }

/* A request the queue refuses (the server is busy) or that loses its connection makes
   Gradio cover the whole chat with a bare "Error" pill: the conversation disappears.
   Its toast already says what happened and what to do ("This application is currently
   busy. Please try again."), so the conversation stays readable instead. The answer
   handler itself never fails this way: its errors are shown in the chat as messages. */
#chat > [data-testid="status-tracker"]:has(> .error) { display: none !important; }

/* chat messages */
.rag-answer .answer-meta { display: flex; flex-wrap: wrap; gap: 6px; align-items: center;
  margin-bottom: 6px; }
.rag-answer .answer-text { line-height: 1.55; }
.rag-answer .draft-text { color: var(--body-text-color-subdued); font-style: italic; }
.rag-answer .resolved { font-size: 0.8rem; color: var(--body-text-color-subdued); }
.rag-answer .notice { margin-top: 8px; font-size: 0.85rem; color: #92400e; background: #fffbeb;
  border-left: 3px solid #f59e0b; padding: 4px 8px; border-radius: 4px; }
.badge { display: inline-block; font-size: 0.72rem; font-weight: 600; letter-spacing: 0.02em;
  padding: 1px 8px; border-radius: 999px; border: 1px solid; white-space: nowrap;
  text-transform: lowercase; }
.badge-generated { color: #1e40af; background: #eff6ff; border-color: #bfdbfe; }
.badge-extractive { color: #065f46; background: #ecfdf5; border-color: #a7f3d0; }
.badge-refused { color: #374151; background: #f3f4f6; border-color: #d1d5db; }
.badge-error { color: #991b1b; background: #fef2f2; border-color: #fecaca; }
.badge-uploaded { color: #5b21b6; background: #f5f3ff; border-color: #ddd6fe; }
.badge-drafting { color: #6b7280; background: transparent; border-color: #d1d5db;
  animation: rag-pulse 1.4s ease-in-out infinite; }
@keyframes rag-pulse { 0%, 100% { opacity: 1; } 50% { opacity: 0.45; } }
a.cite, span.cite { font-weight: 600; text-decoration: none !important; white-space: nowrap;
  font-size: 0.9em; }
a.cite { color: var(--color-accent, #2563eb) !important; cursor: pointer; border-radius: 4px;
  padding: 0 1px; }
a.cite:hover { background: rgba(37, 99, 235, 0.12); }
span.cite-old { color: var(--body-text-color-subdued); }

/* sources panel */
#sources-panel { min-height: 200px; }
.sources-title { font-weight: 600; font-size: 0.95rem; margin: 2px 0 10px; }
.sources-empty { color: var(--body-text-color-subdued); font-size: 0.92rem; padding: 8px 4px;
  line-height: 1.5; }
.sources-empty-title { font-weight: 600; color: var(--body-text-color); margin-bottom: 4px; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  margin-bottom: 10px; background: var(--background-fill-primary); scroll-margin: 12px;
  transition: box-shadow 0.3s ease, border-color 0.3s ease; }
.src-card.flash { border-color: var(--color-accent, #2563eb);
  box-shadow: 0 0 0 3px rgba(37, 99, 235, 0.25); }
.src-head { display: flex; align-items: baseline; gap: 8px; }
.src-marker { font-weight: 700; color: var(--color-accent, #2563eb); }
.src-speaker { font-weight: 600; }
.src-speaker-none { font-weight: 400; font-style: italic; color: var(--body-text-color-subdued); }
.src-meta { font-size: 0.78rem; color: var(--body-text-color-subdued); margin: 2px 0 6px;
  overflow-wrap: anywhere; }
.src-doc { font-family: var(--font-mono, monospace); }
.src-text { font-size: 0.9rem; line-height: 1.55; overflow-wrap: anywhere; }
.src-text mark { background: #fde68a; color: #1f2937; padding: 1px 2px; border-radius: 3px; }

/* speakers */
.speakers-hint { font-weight: 400; color: var(--body-text-color-subdued); font-size: 0.85rem; }
.speaker-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  margin-bottom: 12px; background: var(--background-fill-primary); }
.speaker-head { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; }
button.ask-speaker { font-weight: 700; font-size: 1rem; color: var(--color-accent, #2563eb);
  background: none; border: 0; padding: 0; cursor: pointer; text-align: left; }
button.ask-speaker:hover { text-decoration: underline; }
.speaker-count, .speaker-kind { font-size: 0.78rem; color: var(--body-text-color-subdued); }
.speaker-roles { font-size: 0.88rem; margin-top: 2px; }
.speaker-orgs { font-size: 0.8rem; color: var(--body-text-color-subdued); }
ol.statements { margin: 8px 0 0 0; padding-left: 1.4em; }
li.statement { margin-bottom: 8px; }
.statement-kind { font-style: italic; }

/* documents */
.docs-table { width: 100%; border-collapse: collapse; font-size: 0.88rem; margin: 0 !important;
  border: 0 !important; }
.docs-table th, .docs-table td { text-align: left; padding: 6px 8px !important; border: 0 !important;
  border-bottom: 1px solid var(--border-color-primary) !important; background: transparent; }
.docs-table tr { border: 0 !important; }
.docs-table th { font-weight: 600; color: var(--body-text-color-subdued); }
.docs-table .num { text-align: right !important; font-variant-numeric: tabular-nums; }
.doc-src { overflow-wrap: anywhere; }
.docs-empty { color: var(--body-text-color-subdued); }
</style>
"""

# Runs once per page (guarded): a click on a speaker's name in the Speakers
# tab opens the Chat tab with "What did NAME say about " in the question box,
# the cursor after it. The value is set the way typing sets it (an input
# event), so Gradio sees it.
SPEAKER_JS = """
if (!window.__ragSpeakerHandler) {
  window.__ragSpeakerHandler = true;
  document.addEventListener('click', function (ev) {
    var t = ev.target;
    var b = t && t.closest ? t.closest('button.ask-speaker') : null;
    if (!b) return;
    ev.preventDefault();
    var question = b.getAttribute('data-question') || '';
    var tabs = Array.prototype.slice.call(document.querySelectorAll('button[role="tab"]'));
    var chat = tabs.filter(function (x) { return x.textContent.trim() === 'Chat'; })[0];
    if (chat) chat.click();
    var tries = 0;
    (function fill() {
      var box = document.querySelector('#question textarea');
      if (!box || box.offsetParent === null) {
        if (tries++ < 40) setTimeout(fill, 50);
        return;
      }
      var setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
      setter.call(box, question);
      box.dispatchEvent(new Event('input', {bubbles: true}));
      box.focus();
      box.setSelectionRange(question.length, question.length);
    })();
  }, true);
}
"""

# Runs once per page (guarded): a click on an ``[n]`` marker scrolls the
# matching source card into view and flashes it, without changing the URL.
CITE_JS = """
if (!window.__ragCiteHandler) {
  window.__ragCiteHandler = true;
  document.addEventListener('click', function (ev) {
    var t = ev.target;
    var a = t && t.closest ? t.closest('a[href^="#src-"]') : null;
    if (!a) return;
    var card = document.getElementById(a.getAttribute('href').slice(1));
    if (!card) return;
    ev.preventDefault();
    ev.stopPropagation();
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
    card.classList.remove('flash');
    void card.offsetWidth;
    card.classList.add('flash');
    setTimeout(function () { card.classList.remove('flash'); }, 1600);
  }, true);
}
"""
