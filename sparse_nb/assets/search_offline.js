// Sphinx search fetches each result page for its excerpt, which a browser refuses under file://.
// sparse_nb writes every page's text into _static/search_pages.js (window.SNB_PAGES, docname -> text in
// <section id> tags); this answers those fetches from it, and leaves every other fetch to the browser.
(function () {
  const realFetch = window.fetch.bind(window);
  window.fetch = function (url, options) {
    const root = new URL(document.documentElement.dataset.content_root || './', location.href).href;
    const page = new URL(url, location.href).href.split('#')[0];
    const doc = page.startsWith(root) && page.endsWith('.html') ? page.slice(root.length, -5) : null;
    const pages = window.SNB_PAGES || {};
    if (doc !== null && Object.prototype.hasOwnProperty.call(pages, doc))
      return Promise.resolve(new Response('<div role="main">' + pages[doc] + '</div>',
                                          {headers: {'Content-Type': 'text/html'}}));
    return realFetch(url, options);
  };
})();
