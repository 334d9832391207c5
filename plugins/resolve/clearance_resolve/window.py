"""A plain results window through Fusion's UI Manager (the one Resolve scripts have), or the console."""

from __future__ import annotations

from typing import Any


def show_text(ui_pair: tuple[Any, Any] | None, title: str, text: str) -> None:
    """Show ``text`` in a window with a Close button; print it when there is no UI."""
    print(text)
    if ui_pair is None:
        return
    ui, disp = ui_pair
    window = ui.AddWindow(
        {"ID": "ClearanceResult", "WindowTitle": title, "Geometry": [200, 200, 720, 420]},
        [
            ui.VGroup(
                [
                    ui.TextEdit({"ID": "Text", "ReadOnly": True, "PlainText": text}),
                    ui.HGroup({"Weight": 0}, [ui.Button({"ID": "Close", "Text": "Close"})]),
                ]
            )
        ],
    )

    def close(_event: Any) -> None:
        disp.ExitLoop()

    window.On.Close.Clicked = close
    window.On.ClearanceResult.Close = close
    window.Show()
    disp.RunLoop()
    window.Hide()
