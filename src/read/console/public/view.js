// The view library, bound once: preact's h through htm, so templates are tagged strings and
// every value in them is a text node or a property, never parsed as HTML.
import { h, render, Component, createRef } from '/console/vendor/preact/preact.mjs';
import htm from '/console/vendor/htm/htm.mjs';

export const html = htm.bind(h);
export { render, Component, createRef };
