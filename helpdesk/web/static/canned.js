// Canned responses: insert the text at the cursor in the reply box instead of reloading the page.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.canned-use");
  const box = document.getElementById("body");
  if (!link || !box) return;
  event.preventDefault();
  const text = link.dataset.body || "";
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? box.value.length;
  box.setRangeText(text, start, end, "end");
  box.focus();
});
