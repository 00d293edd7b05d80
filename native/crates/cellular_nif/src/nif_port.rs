//! `VintageNetCellular.ATPort` natives: the port program's wire protocol.
