[
  inputs: ["{mix,.formatter}.exs", "{config,lib,test,mix,bench,scripts}/**/*.{ex,exs}"],
  line_length: 120
]
