"""The browser chat (Gradio) for the assistant: presentation only.

``ui.app.build_app(assistant)`` builds the page; ``ui.app.main(argv)`` runs it
(``python -m ui`` or ``rag ui``).
"""
