"""The pages of Homeward, server-rendered, for the people of every agency."""
