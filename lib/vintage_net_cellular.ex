defmodule VintageNetCellular do
  @moduledoc """
  A VintageNet technology for USB cellular modems over PPP.
  """
end
