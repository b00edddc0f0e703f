"""An evalkit plugin: a task (`plugin_words`) and a grader (`last_word`), found through entry points."""
