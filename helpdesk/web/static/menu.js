// The header's account menu is a native <details> disclosure: it opens and closes with its button without any
// script. This adds what a menu is expected to do besides: Escape closes it and puts the focus back on its
// button, and pressing or moving the focus anywhere outside it closes it.
(function () {
  "use strict";
  var menus = Array.prototype.slice.call(document.querySelectorAll("details.account"));
  if (!menus.length) return;

  function closeOutside(target) {
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(target)) menu.open = false;
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    menus.forEach(function (menu) {
      if (!menu.open) return;
      menu.open = false;
      var button = menu.querySelector("summary");
      if (button) button.focus();
      event.preventDefault();
    });
  });
  // pointerdown, not click: a tap on a part of the page that is not a link or button sends no click on iOS.
  document.addEventListener("pointerdown", function (event) { closeOutside(event.target); });
  // Tabbing past the last item leaves the menu: it closes rather than float over the page.
  document.addEventListener("focusin", function (event) { closeOutside(event.target); });
})();
