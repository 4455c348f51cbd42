#pragma once
#include <vector>

#include "core.hpp"

namespace probe {

// Every item of the quick or the full grid, in a fixed order (a family at a time).
std::vector<Item> buildGrid(bool quick);
// Bytes one row of an elementwise op moves (read + written); its rows are 4096 wide.
long elementwiseBytesPerRow(const std::string& op);
// Part K of N (1-based): items i with i mod N = K − 1, so each part gets a fair share of every family.
std::vector<Item> selectPart(const std::vector<Item>& all, int part, int parts);

}  // namespace probe
