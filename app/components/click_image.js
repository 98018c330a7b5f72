// nlviz click strip (st.components.v2, plain JS): shows one image and sends the image pixel under a click
// (in the image's own pixels, whatever size the page shows it at) back to Python as the trigger "click", with
// a number n that grows with every click (Python handles each click once).
export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  const img = parentElement.querySelector(".nlviz-click-image");
  if (!img || !data) return undefined;
  if (img.getAttribute("src") !== data.src) img.setAttribute("src", data.src);
  const click = (ev) => {
    const r = img.getBoundingClientRect();
    if (!r.width || !r.height) return;
    const x = ((ev.clientX - r.left) * img.naturalWidth) / r.width;
    const y = ((ev.clientY - r.top) * img.naturalHeight) / r.height;
    setTriggerValue("click", { x, y, n: Date.now() + performance.now() / 1e6 });
  };
  img.addEventListener("click", click);
  return () => img.removeEventListener("click", click);
}
